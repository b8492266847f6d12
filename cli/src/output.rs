//! Output: results on stdout, warnings and errors on stderr, one JSON
//! object with `--json`, and the exit code of each kind of failure.

use std::io::Write as _;
use std::process::ExitCode;

use sealed_session::KeyError;

/// Why a subcommand did not succeed, with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Keys that do not parse, a cookie that is not ours or does not open.
    Invalid = 1,
    /// An unsafe rotation step.
    Refused = 3,
    /// A file, variable or stdin that cannot be read, or a file that
    /// cannot be written.
    Io = 4,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Refused => "refused",
            Self::Io => "io",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Failure {
    kind: Kind,
    /// `None` when the subcommand already printed its report.
    message: Option<String>,
}

impl Failure {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Invalid,
            message: Some(message.into()),
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Refused,
            message: Some(message.into()),
        }
    }

    pub(crate) fn io(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Io,
            message: Some(message.into()),
        }
    }

    /// The report is already out (e.g. `inspect` found nothing that
    /// opens); only the exit code is left.
    pub(crate) fn reported(kind: Kind) -> Self {
        Self {
            kind,
            message: None,
        }
    }

    /// A key error from the library: unreadable files and unset variables
    /// are I/O, the rest invalid keys. Its message never holds key material.
    pub(crate) fn key(err: &KeyError) -> Self {
        match err {
            KeyError::Io { .. } | KeyError::Env { .. } => Self::io(err.to_string()),
            _ => Self::invalid(err.to_string()),
        }
    }

    pub(crate) fn report(self, json: bool) -> ExitCode {
        if let Some(message) = &self.message {
            if json {
                emit_json(&serde_json::json!({
                    "ok": false,
                    "error": self.kind.name(),
                    "message": message,
                    "exit_code": self.kind as u8,
                }));
            }
            warn(&format!("error: {message}"));
        }
        ExitCode::from(self.kind as u8)
    }
}

/// Writes `text` and a newline to stdout; a closed pipe is not an error
/// worth a panic.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

pub(crate) fn emit_json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned());
    emit(&text);
}

pub(crate) fn warn(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}
