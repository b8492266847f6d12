//! The built `sealed-session` binary on real key files and real cookies:
//! what it prints, its exit codes, and that bad input of every kind gets a
//! message and a code, never a panic, and never key material.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use http::HeaderMap;
use http::header::COOKIE;
use sealed_session::adapter::Connection;
use sealed_session::codec::Codec;
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig, SessionManager,
    SessionMap, SessionMeta,
};
use serde_json::Value;

const K1: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const K2: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const NAME: &str = "__Host-session";

fn cli() -> Command {
    let mut cmd = Command::cargo_bin("sealed-session").expect("the binary is built");
    cmd.env_remove("SESSION_KEYS");
    cmd
}

/// What one run produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {}", self.stdout))
    }

    /// Neither stream holds any of these secrets, nor a panic.
    fn clean_of(&self, secrets: &[&str]) -> &Self {
        for secret in secrets {
            for part in [secret.trim_end_matches('='), &secret[..20]] {
                assert!(
                    !self.stdout.contains(part),
                    "key material on stdout: {}",
                    self.stdout
                );
                assert!(
                    !self.stderr.contains(part),
                    "key material on stderr: {}",
                    self.stderr
                );
            }
        }
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("runs");
    Run {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

fn key_file(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("keys");
    fs::write(&path, text).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn meta() -> SessionMeta {
    SessionMeta::new(Lifetimes::default()).expect("meta")
}

fn session_map() -> SessionMap {
    let mut map = SessionMap::default();
    map.insert("user", "alice").expect("insert");
    map.insert("visits", &3u32).expect("insert");
    map
}

#[test]
fn keygen_prints_an_entry_the_library_accepts() {
    let out = run(cli().arg("keygen"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entry = out.stdout.trim();
    let keyring: Keyring = entry.parse().expect("the library reads it");
    assert_eq!(keyring.key_ids(), vec![1]);
    assert!(entry.starts_with("1:") && entry.len() == 2 + 44, "{entry}");
    assert!(out.stderr.contains("fingerprint"), "{}", out.stderr);

    let out = run(cli().args(["keygen", "--id", "7", "--suite", "aes-256-gcm", "--json"]));
    assert_eq!(out.code, 0);
    let json = out.json();
    let entry = json["entry"].as_str().expect("entry");
    assert!(entry.starts_with("7:aes-256-gcm:"), "{entry}");
    let keyring: Keyring = entry.parse().expect("parses");
    assert_eq!(keyring.suite(7), Some(sealed_session::Suite::Aes256Gcm));
    assert_eq!(
        json["fingerprint"].as_str(),
        Some(keyring.fingerprint(7).expect("key").to_string().as_str())
    );
    assert_ne!(
        run(cli().arg("keygen")).stdout,
        run(cli().arg("keygen")).stdout
    );

    for bad in [
        &["keygen", "--suite", "rot13"][..],
        &["keygen", "--id", "-1"],
        &["keygen", "--id", "4294967296"],
        &["keygen", "--bogus"],
    ] {
        let out = run(cli().args(bad));
        assert_eq!(out.code, 2, "{bad:?}: {}", out.stderr);
        out.clean_of(&[]);
        assert!(out.stderr.contains("error"), "{bad:?}: {}", out.stderr);
    }
}

#[test]
fn keys_check_lists_keys_without_key_material() {
    let dir = tempfile::tempdir().expect("dir");
    let file = key_file(
        dir.path(),
        &format!("# keys\n2:{K2}\n1:aes-256-gcm:{K1}\n"),
        0o600,
    );
    let out = run(cli().args(["keys", "check", "--file"]).arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1, K2]);
    let fp1 = K1.parse::<Key>().expect("key").fingerprint().to_string();
    let fp2 = K2.parse::<Key>().expect("key").fingerprint().to_string();
    assert!(
        out.stdout.contains("valid, 2 keys, primary 2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&fp1) && out.stdout.contains(&fp2),
        "{}",
        out.stdout
    );
    assert!(
        !out.stderr.contains("warning"),
        "0600 is fine: {}",
        out.stderr
    );

    let out = run(cli()
        .args(["keys", "check", "--json", "--env", "SOME_KEYS"])
        .env("SOME_KEYS", format!("2:{K2},1:aes-256-gcm:{K1}")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1, K2]);
    let json = out.json();
    assert_eq!(json["primary"], 2);
    let keys = json["keys"].as_array().expect("keys");
    assert_eq!(keys[0]["role"], "primary");
    assert_eq!(keys[0]["fingerprint"], fp2.as_str());
    assert_eq!(keys[1]["role"], "accept-only");
    assert_eq!(keys[1]["suite"], "aes-256-gcm");
    assert_eq!(keys[1]["seal_budget"], 1u64 << 28);

    // A world-readable key file is worth a warning, not a failure.
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = run(cli().args(["keys", "check", "--file"]).arg(&file));
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
}

#[test]
fn keys_check_refuses_bad_keys_with_the_library_message() {
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        (
            format!("1:{K1}\n2:c2hvcnQ="),
            "entry 2 (key id 2): key must be exactly 32 bytes",
        ),
        (format!("1:{K1}\n1:{K2}"), "key id 1 appears twice"),
        (format!("1:{K1}\n2:{K1}"), "same key"),
        (format!("x:{K1}"), "the id is not a number"),
        (format!("1:rot13:{K1}"), "unknown suite"),
        ("# nothing\n".to_owned(), "keyring is empty"),
        (format!("1:{}", &K1[..30]), "entry 1 (key id 1)"),
    ];
    for (text, expected) in &cases {
        let file = key_file(dir.path(), text, 0o600);
        let out = run(cli().args(["keys", "check", "--file"]).arg(&file));
        assert_eq!(out.code, 1, "{text:?}: {}", out.stderr);
        out.clean_of(&[K1, K2]);
        let library = text.parse::<Keyring>().expect_err("invalid").to_string();
        assert!(out.stderr.contains(&library), "{text:?}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{text:?}: {}", out.stderr);

        let out = run(cli()
            .args(["--json", "keys", "check", "--env", "BAD_KEYS"])
            .env("BAD_KEYS", text));
        assert_eq!(out.code, 1);
        out.clean_of(&[K1, K2]);
        assert_eq!(out.json()["error"], "invalid");
    }
    let out = run(cli().args(["keys", "check", "--file", "/nonexistent/keys"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("/nonexistent/keys"), "{}", out.stderr);
    let out = run(cli().args(["keys", "check", "--env", "SEALED_SESSION_UNSET_VAR"]));
    assert_eq!(out.code, 4);
    assert!(
        out.stderr.contains("SEALED_SESSION_UNSET_VAR"),
        "{}",
        out.stderr
    );
    let not_utf8 = dir.path().join("binary");
    fs::write(&not_utf8, [0xff, 0xfe, 0x00]).expect("write");
    assert_eq!(
        run(cli().args(["keys", "check", "--file"]).arg(&not_utf8)).code,
        4
    );
    for usage in [
        &["keys", "check"][..],
        &["keys", "check", "--env", "A", "--file", "b"],
        &["keys"],
    ] {
        let out = run(cli().args(usage));
        assert_eq!(out.code, 2, "{usage:?}");
        out.clean_of(&[]);
    }
}

#[test]
fn rotation_phases_keep_sessions_permissions_and_comments() {
    let dir = tempfile::tempdir().expect("dir");
    let file = key_file(dir.path(), &format!("# production keys\n1:{K1}\n"), 0o640);
    let codec = Codec::new(NAME).expect("codec");
    let before = codec
        .seal(&Keyring::from_file(&file).expect("keys"), &meta(), &1u8)
        .expect("seal");

    let out = run(cli().args(["rotate", "--file"]).arg(&file).arg("add"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1]);
    assert!(
        out.stdout.contains("EVERY instance must have reloaded"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("promote 2"), "{}", out.stdout);
    let text = fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# production keys\n1:"), "{text}");
    assert_eq!(mode(&file), 0o640, "permissions kept");
    let keyring = Keyring::from_file(&file).expect("valid");
    assert_eq!((keyring.primary_id(), keyring.key_ids()), (1, vec![1, 2]));
    let added = text.lines().last().expect("line").to_owned();
    assert!(
        !out.stdout
            .contains(added.split(':').next_back().expect("key"))
    );
    assert!(codec.open::<u8>(&keyring, &before).is_ok());

    let out = run(cli()
        .args(["--json", "rotate", "--file"])
        .arg(&file)
        .args(["promote", "2"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1, &added[2..]]);
    let json = out.json();
    assert_eq!(
        (json["action"].as_str(), json["primary"].as_u64()),
        (Some("promote"), Some(2))
    );
    assert!(json["next"].as_str().expect("next").contains("retire 1"));
    let keyring = Keyring::from_file(&file).expect("valid");
    assert_eq!(keyring.key_ids(), vec![2, 1]);
    let opened = codec
        .open::<u8>(&keyring, &before)
        .expect("old cookie opens");
    assert!(opened.needs_reseal);

    // Unsafe or meaningless steps are refused and leave the file alone.
    let unchanged = fs::read_to_string(&file).expect("read");
    for (args, expected) in [
        (&["retire", "2"][..], "is the primary"),
        (&["retire", "9"], "9"),
        (&["promote", "9"], "9"),
        (&["promote", "2"], "already the primary"),
        (&["add", "--id", "1"], "key id 1"),
    ] {
        let out = run(cli().args(["rotate", "--file"]).arg(&file).args(args));
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        out.clean_of(&[K1, &added[2..]]);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
        assert_eq!(
            fs::read_to_string(&file).expect("read"),
            unchanged,
            "{args:?}"
        );
    }

    let out = run(cli()
        .args(["rotate", "--file"])
        .arg(&file)
        .args(["retire", "1"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let keyring = Keyring::from_file(&file).expect("valid");
    assert_eq!(keyring.key_ids(), vec![2]);
    assert_eq!(mode(&file), 0o640);
    assert_eq!(
        codec
            .open::<u8>(&keyring, &before)
            .expect_err("retired")
            .kind(),
        sealed_session::ErrorKind::UnknownKey
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn rotate_replaces_the_file_behind_a_symlink_and_refuses_bad_files() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    fs::create_dir(&data).expect("mkdir");
    let real = key_file(&data, &format!("1:{K1},2:{K2}\n"), 0o600);
    let link = dir.path().join("keys");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let out = run(cli()
        .args(["rotate", "--file"])
        .arg(&link)
        .args(["promote", "2"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(&real).expect("read"),
        format!("2:{K2}\n1:{K1}\n")
    );
    assert_eq!(mode(&real), 0o600);

    let bad = key_file(
        dir.path().join("data").as_path(),
        &format!("1:{K1}\n2:short\n"),
        0o600,
    );
    let out = run(cli().args(["rotate", "--file"]).arg(&bad).arg("add"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    out.clean_of(&[K1]);
    assert!(out.stderr.contains("left alone"), "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(&bad).expect("read"),
        format!("1:{K1}\n2:short\n")
    );

    let out = run(cli().args(["rotate", "--file", "/nonexistent/keys", "add"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    for usage in [
        &["rotate", "add"][..],
        &["rotate", "--file", "k"],
        &["rotate", "--file", "k", "promote"],
        &["rotate", "--file", "k", "retire", "x"],
        &["rotate", "--file", "k", "add", "--suite", "des"],
    ] {
        let out = run(cli().args(usage));
        assert_eq!(out.code, 2, "{usage:?}: {}", out.stderr);
        out.clean_of(&[]);
    }
}

/// A cookie minted by a session manager (optionally split into chunks):
/// the `Cookie` header line a browser would send back.
fn minted(keys: &str, chunking: u8, data: SessionMap, context: Option<&[u8]>) -> String {
    let handle = KeyringHandle::new(keys.parse().expect("keys"));
    let mut config = SessionConfig::new(CookieConfig::new(NAME));
    if chunking > 0 {
        config = config.chunking(chunking);
    }
    if let Some(context) = context {
        config = config.context(context);
    }
    let manager = SessionManager::<SessionMap>::new(config, handle).expect("manager");
    let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    session.set(data);
    let cookies = session.save().expect("save").set_cookie;
    let pairs: Vec<String> = cookies
        .iter()
        .map(|c| {
            c.to_str()
                .expect("ascii")
                .split(';')
                .next()
                .expect("pair")
                .to_owned()
        })
        .collect();
    let line = pairs.join("; ");
    // The line opens as the session it came from.
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, line.parse().expect("header"));
    assert!(
        manager
            .load(&headers, Connection::new(None, true))
            .get()
            .is_some()
    );
    line
}

#[test]
fn inspect_without_keys_reads_the_header() {
    let keyring = Keyring::new(KeySpec::new(7, K1.parse().expect("key")));
    let value = Codec::new(NAME)
        .expect("codec")
        .seal(&keyring, &meta(), &42u32)
        .expect("seal");
    let out = run(cli().arg("inspect").write_stdin(format!("{value}\n")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("key_id: 7"), "{}", out.stdout);
    assert!(out.stdout.contains("could_be_ours: true"), "{}", out.stdout);
    assert!(!out.stdout.contains(&value), "the value is not echoed");
    assert!(
        !out.stderr.contains("sensitive"),
        "nothing sensitive without keys"
    );

    let line = format!("Cookie: _ga=GA1.2.3; {NAME}={value}; theme=dark");
    let out = run(cli().args(["inspect", "--json"]).write_stdin(line));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let cookies = json["cookies"].as_array().expect("cookies");
    assert_eq!(cookies.len(), 3);
    let ours = cookies.iter().find(|c| c["name"] == NAME).expect("ours");
    assert_eq!(
        (ours["format_version"].as_u64(), ours["key_id"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(ours["value_len"].as_u64(), Some(value.len() as u64));
    assert_eq!(ours["could_be_ours"], true);
    assert!(
        cookies
            .iter()
            .filter(|c| c["name"] != NAME)
            .all(|c| c["could_be_ours"] == false)
    );

    // Chunks are joined in order.
    let big = {
        let mut map = SessionMap::default();
        map.insert("blob", &"x".repeat(6000)).expect("insert");
        map
    };
    let line = minted(&format!("3:{K2}"), 4, big, None);
    assert!(line.contains(".1="), "chunked: {line}");
    let out = run(cli()
        .args(["inspect", "--json", "--name", NAME])
        .write_stdin(line.clone()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["cookies"][0]["chunks"].as_u64(), Some(2));
    assert_eq!(json["cookies"][0]["key_id"].as_u64(), Some(3));

    // A missing chunk: noted, nothing to inspect.
    let partial: Vec<&str> = line.split("; ").filter(|p| !p.contains(".1=")).collect();
    let out = run(cli()
        .args(["inspect", "--name", NAME])
        .write_stdin(partial.join("; ")));
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.clean_of(&[]);
}

#[test]
fn inspect_with_keys_opens_and_prints_metadata_and_data() {
    let keys = format!("1:{K1}");
    let line = minted(&keys, 0, session_map(), Some(b"app1"));
    let dir = tempfile::tempdir().expect("dir");
    let file = key_file(dir.path(), &format!("{keys}\n"), 0o600);
    let out = run(cli()
        .args(["inspect", "--json", "--context", "app1", "--keys-file"])
        .arg(&file)
        .write_stdin(line.clone()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1]);
    assert!(out.stderr.contains("sensitive"), "{}", out.stderr);
    let json = out.json();
    let cookie = &json["cookies"][0];
    assert_eq!(cookie["opened"], true);
    let sealed = &cookie["metadata"];
    assert_eq!(sealed["key_id"], 1);
    assert_eq!(sealed["needs_reseal"], false);
    assert_eq!(sealed["data_version"], 0);
    assert_eq!(sealed["suite"], "xaes-256-gcm");
    assert_eq!(sealed["session_id_prefix"].as_str().map(str::len), Some(8));
    let issued = sealed["issued_at"]["unix"].as_u64().expect("issued");
    let idle = sealed["idle_expiry"]["unix"].as_u64().expect("idle");
    assert_eq!(idle - issued, Duration::from_secs(30 * 60).as_secs());
    assert!(
        sealed["absolute_expiry"]["utc"]
            .as_str()
            .expect("utc")
            .ends_with('Z')
    );
    assert_eq!(sealed["profile"], 0);
    assert_eq!(cookie["data"]["type"], "SessionMap");
    assert_eq!(cookie["data"]["csrf_secret"], false);
    assert_eq!(cookie["data"]["flash"], serde_json::json!([]));
    assert_eq!(cookie["data"]["entries"]["user"], "alice");
    assert_eq!(cookie["data"]["entries"]["visits"]["encoded_hex"], "03");

    // Text output, keys from the environment; the old key after a rotation.
    let out = run(cli()
        .args(["inspect", "--context", "app1", "--keys-env", "APP_KEYS"])
        .env("APP_KEYS", format!("2:{K2},1:{K1}"))
        .write_stdin(line.clone()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.clean_of(&[K1, K2]);
    assert!(out.stdout.contains("needs_reseal: true"), "{}", out.stdout);
    assert!(out.stdout.contains("user: alice"), "{}", out.stdout);

    // Rejections, with their kind.
    for (args, env_keys, kind) in [
        (
            &["--context", "app2"][..],
            keys.clone(),
            "AuthenticationFailed",
        ),
        (&[][..], keys.clone(), "AuthenticationFailed"),
        (&["--context", "app1"][..], format!("2:{K2}"), "UnknownKey"),
        (
            &["--context", "app1", "--name", "__Host-other"][..],
            keys.clone(),
            "",
        ),
    ] {
        let out = run(cli()
            .args(["inspect", "--json", "--keys-env", "APP_KEYS"])
            .args(args)
            .env("APP_KEYS", &env_keys)
            .write_stdin(line.clone()));
        assert_eq!(out.code, 1, "{args:?}: {}", out.stdout);
        out.clean_of(&[K1, K2]);
        if !kind.is_empty() {
            assert_eq!(out.json()["cookies"][0]["rejected"], kind, "{args:?}");
        }
    }

    // Data that is not a SessionMap: its length and hex.
    let keyring: Keyring = keys.parse().expect("keys");
    let value = Codec::new(NAME)
        .expect("codec")
        .seal(&keyring, &meta(), &7u8)
        .expect("seal");
    let out = run(cli()
        .args(["inspect", "--json", "--keys-file"])
        .arg(&file)
        .write_stdin(value));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data = &out.json()["cookies"][0]["data"];
    assert_eq!(
        (data["len"].as_u64(), data["hex"].as_str()),
        (Some(1), Some("07"))
    );
}

#[test]
fn inspect_refuses_bad_input_without_panicking() {
    let dir = tempfile::tempdir().expect("dir");
    let file = key_file(dir.path(), &format!("1:{K1}\n"), 0o600);
    let too_long = "A".repeat(300 * 1024);
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   \n".to_vec(),
        b"Cookie:".to_vec(),
        b"not a cookie at all".to_vec(),
        b"a=b; c".to_vec(),
        b"=;=;;".to_vec(),
        vec![0xff, 0xfe, 0xfd],
        too_long.into_bytes(),
        b"AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec(),
        b"AgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec(),
        b"AQAAAAE".to_vec(),
        format!("{NAME}.0=AQAAAAEAAA; {NAME}.2=AAAA").into_bytes(),
    ];
    for input in &inputs {
        for keys in [false, true] {
            let mut cmd = cli();
            cmd.arg("inspect");
            if keys {
                cmd.arg("--keys-file").arg(&file);
            }
            let out = run(cmd.write_stdin(input.clone()));
            let shown = String::from_utf8_lossy(&input[..input.len().min(40)]).into_owned();
            assert!(
                out.code == 1 || (out.code == 0 && !keys),
                "{shown:?} keys={keys}: exit {} {}",
                out.code,
                out.stderr
            );
            out.clean_of(&[K1]);
            assert!(
                !out.stderr.is_empty() || out.code == 0,
                "{shown:?}: says why"
            );
        }
    }
    // Keys that do not load, a name that is not a cookie name.
    let out = run(cli()
        .args(["inspect", "--keys-file", "/nonexistent/keys"])
        .write_stdin("x"));
    assert_eq!(out.code, 4);
    let out = run(cli()
        .args(["inspect", "--keys-env", "SEALED_SESSION_UNSET_VAR"])
        .write_stdin("x"));
    assert_eq!(out.code, 4);
    let out = run(cli()
        .args(["inspect", "--name", "bad name", "--keys-file"])
        .arg(&file)
        .write_stdin("AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("cannot use this name"),
        "{}",
        out.stdout
    );
    let out = run(cli()
        .args(["inspect", "--keys-file", "a", "--keys-env", "B"])
        .write_stdin("x"));
    assert_eq!(out.code, 2);
}

#[test]
fn help_documents_the_exit_codes() {
    for args in [
        &["--help"][..],
        &["keygen", "--help"],
        &["rotate", "--help"],
        &["inspect", "--help"],
    ] {
        let out = run(cli().args(args));
        assert_eq!(out.code, 0);
        for code in [
            "0  success",
            "1  invalid input",
            "2  usage error",
            "3  refused",
            "4  I/O error",
        ] {
            assert!(out.stdout.contains(code), "{args:?}: {}", out.stdout);
        }
    }
}

#[test]
fn concurrent_rotations_do_not_lose_a_key() {
    let dir = tempfile::tempdir().expect("dir");
    let file = key_file(dir.path(), &format!("1:{K1}\n"), 0o600);
    let runs: Vec<_> = (2..=9u32)
        .map(|id| {
            let file = file.clone();
            std::thread::spawn(move || {
                let id = id.to_string();
                run(cli()
                    .args(["rotate", "--file"])
                    .arg(&file)
                    .args(["add", "--id", &id]))
            })
        })
        .collect();
    for handle in runs {
        let out = handle.join().expect("thread");
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let mut ids = Keyring::from_file(&file).expect("valid").key_ids();
    ids.sort_unstable();
    assert_eq!(ids, (1..=9).collect::<Vec<_>>(), "every added key is there");
}
