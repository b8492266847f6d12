//! `sealed-session`: generate, check and rotate the keys of
//! sealed-session applications, and inspect the cookies they set.
//!
//! Every subcommand takes `--json` for scripts. Exit codes are listed in
//! [`EXIT_CODES`] (and printed by `--help`).

// The command handles untrusted input (cookies, key files): no reachable
// panics. Tests may assert freely.
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod inspect;
mod keys;
mod output;
mod rotate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sealed_session::{KeyId, Suite};

use crate::output::Failure;

/// The exit codes, as `--help` prints them.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  invalid input: keys that do not parse, a cookie that is not a sealed
     value or does not open with the keys given
  2  usage error: unknown subcommand, missing or malformed argument
  3  refused: the rotation step would be unsafe (retiring the primary,
     promoting or retiring an unknown key, reusing a key id)
  4  I/O error: a file, environment variable or stdin could not be read,
     or the key file could not be replaced";

/// Keys and cookies of sealed-session applications, from the command line.
///
/// Output never contains key material, except `keygen`'s, whose purpose
/// it is.
#[derive(Debug, Parser)]
#[command(name = "sealed-session", version, after_help = EXIT_CODES)]
struct Cli {
    /// Print one JSON object on stdout instead of text (errors included,
    /// except usage errors).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a fresh key entry for a key file or SESSION_KEYS
    /// (`id[:suite]:base64`), from the operating system's random number
    /// generator.
    #[command(after_help = EXIT_CODES)]
    Keygen {
        /// The key id (never reuse one).
        #[arg(long, default_value_t = 1)]
        id: KeyId,
        /// The cipher suite: xaes-256-gcm (default), xchacha20-poly1305 or
        /// aes-256-gcm.
        #[arg(long, value_parser = parse_suite)]
        suite: Option<Suite>,
    },
    /// Check keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Change a key file by one rotation phase, atomically.
    ///
    /// A rotation is three runs, each followed by a reload on every
    /// instance: `add` (a new accept-only key), `promote ID` (it seals),
    /// then after the absolute session lifetime `retire ID` (the old key).
    #[command(after_help = EXIT_CODES)]
    Rotate {
        /// The key file (symbolic links are followed; the file they point
        /// to is replaced, keeping its owner and permissions).
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        #[command(subcommand)]
        phase: RotatePhase,
    },
    /// Describe a sealed cookie read from stdin: a value, or a whole
    /// `Cookie:` header line.
    ///
    /// Without keys: format version, key id, lengths, chunks, and whether
    /// it could be one of ours. With keys, `--name` and `--context` as the
    /// application has them: opens it and prints its metadata and data, or
    /// why it was rejected. That output is sensitive.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Parse and validate keys exactly as the library does, and list each
    /// key's id, suite, role and fingerprint (never the key).
    #[command(after_help = EXIT_CODES)]
    Check {
        #[command(flatten)]
        source: KeySource,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct KeySource {
    /// An environment variable holding a keyring string.
    #[arg(long, value_name = "VAR")]
    env: Option<String>,
    /// A key file.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum RotatePhase {
    /// Phase 1: add a fresh key that only opens (accept-only).
    Add {
        /// Its id; by default one more than the highest id in the file.
        #[arg(long)]
        id: Option<KeyId>,
        /// Its cipher suite (default xaes-256-gcm).
        #[arg(long, value_parser = parse_suite)]
        suite: Option<Suite>,
    },
    /// Phase 2: make a key the primary (the one that seals).
    Promote {
        /// The key id.
        id: KeyId,
    },
    /// Phase 3: remove an accept-only key; cookies under it stop opening.
    Retire {
        /// The key id.
        id: KeyId,
    },
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// Open with the keyring in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "keys_file")]
    keys_env: Option<String>,
    /// Open with the keyring in this key file.
    #[arg(long, value_name = "PATH")]
    keys_file: Option<PathBuf>,
    /// The session cookie's name (default `__Host-session`); in a header
    /// line, only this cookie and its chunks are inspected.
    #[arg(long)]
    name: Option<String>,
    /// The application's context label (`SessionConfig::context`), if any.
    #[arg(long)]
    context: Option<String>,
}

fn parse_suite(text: &str) -> Result<Suite, String> {
    text.parse::<Suite>().map_err(|err| err.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let result = match cli.command {
        Command::Keygen { id, suite } => keys::keygen(id, suite, json),
        Command::Keys {
            command: KeysCommand::Check { source },
        } => keys::check(source.env.as_deref(), source.file.as_deref(), json),
        Command::Rotate { file, phase } => rotate::run(&file, phase, json),
        Command::Inspect(args) => inspect::run(&args, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(json),
    }
}

/// What every subcommand returns.
type Outcome = Result<(), Failure>;
