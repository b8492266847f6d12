//! The committed v1 vectors open (or fail) exactly as recorded, through the
//! public API: cookies issued by earlier releases keep working.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::codec::Codec;
use sealed_session::{Key, KeySpec, Keyring, Suite};
use serde_json::Value;

fn file() -> Value {
    serde_json::from_str(include_str!("vectors/v1.json")).expect("vectors parse")
}

fn at(v: &Value) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(v.as_u64().expect("time"))
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The vector keys, with `primary` as the primary.
fn keyring(file: &Value, primary: u64) -> Keyring {
    let keys = file["keys"].as_array().expect("keys");
    let spec = |k: &Value| {
        let key = Key::from_hex(k["key_hex"].as_str().expect("hex")).expect("key");
        let suite: Suite = k["suite"]
            .as_str()
            .expect("suite")
            .parse()
            .expect("suite name");
        KeySpec::new(k["id"].as_u64().expect("id") as u32, key).suite(suite)
    };
    let first = keys.iter().find(|k| k["id"] == primary).expect("primary");
    let mut ring = Keyring::new(spec(first));
    for k in keys.iter().filter(|k| k["id"] != primary) {
        ring.add_accept_only(spec(k)).expect("add");
    }
    ring
}

#[test]
fn valid_vectors_open() {
    let file = file();
    assert_eq!(file["format_version"], 1);
    let valid = file["valid"].as_array().expect("valid");
    assert!(valid.len() >= 12);
    let ring = keyring(&file, 1);
    for v in valid {
        let codec = Codec::new(v["cookie_name"].as_str().expect("name")).expect("codec");
        let opened = codec
            .open_at::<String>(&ring, v["value"].as_str().expect("value"), at(&v["now"]))
            .unwrap_or_else(|e| panic!("{} vector failed: {e}", v["suite"]));
        assert_eq!(opened.data, v["data"].as_str().expect("data"));
        assert_eq!(u64::from(opened.key_id), v["key_id"].as_u64().expect("id"));
        assert_eq!(
            ring.suite(opened.key_id).map(|s| s.name()),
            v["suite"].as_str()
        );
        let meta = &opened.meta;
        assert_eq!(
            meta.session_id().as_bytes().to_vec(),
            from_hex(v["session_id_hex"].as_str().expect("id"))
        );
        assert_eq!(meta.issued_at(), at(&v["issued_at"]));
        assert_eq!(meta.absolute_expiry(), Some(at(&v["absolute_expiry"])));
        assert_eq!(meta.idle_expiry(), Some(at(&v["idle_expiry"])));
        assert_eq!(
            u64::from(meta.data_version()),
            v["data_version"].as_u64().expect("version")
        );
        assert_eq!(opened.needs_reseal, opened.key_id != 1);
    }
}

#[test]
fn invalid_vectors_fail_with_the_recorded_kind() {
    let file = file();
    let invalid = file["invalid"].as_array().expect("invalid");
    assert!(invalid.len() >= 15);
    let ring = keyring(&file, 1);
    for v in invalid {
        let codec = Codec::new(v["cookie_name"].as_str().expect("name")).expect("codec");
        let err = codec
            .open_at::<String>(&ring, v["value"].as_str().expect("value"), at(&v["now"]))
            .expect_err(v["description"].as_str().expect("description"));
        assert_eq!(
            format!("{:?}", err.kind()),
            v["expected"],
            "{}",
            v["description"]
        );
    }
}

#[test]
fn vectors_stop_opening_once_their_key_is_retired() {
    let file = file();
    let mut ring = keyring(&file, 1);
    ring.retire(2).expect("retire");
    for v in file["valid"].as_array().expect("valid") {
        let codec = Codec::new(v["cookie_name"].as_str().expect("name")).expect("codec");
        let result =
            codec.open_at::<String>(&ring, v["value"].as_str().expect("value"), at(&v["now"]));
        assert_eq!(result.is_ok(), v["key_id"] != 2);
    }
}
