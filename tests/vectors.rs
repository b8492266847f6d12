//! The committed v1 vectors open (or fail) exactly as recorded, through the
//! public API: cookies issued by earlier releases keep working. Two more
//! tests rebuild every valid vector from `FORMAT.md` alone (the AEAD
//! crates, the AAD layout, LEB128 varints), and open them in a session
//! manager configured as the file's `configuration` says.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use sealed_session::adapter::{Clock, Connection};
use sealed_session::codec::Codec;
use sealed_session::flash::FlashMessage;
use sealed_session::{
    CookieConfig, InvalidCookie, Key, KeySpec, Keyring, KeyringHandle, SessionConfig,
    SessionManager, SessionMap, Suite,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
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

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string"))
}

/// The vector keys, with `primary` as the primary.
fn keyring(file: &Value, primary: u64) -> Keyring {
    let keys = file["keys"].as_array().expect("keys");
    let spec = |k: &Value| {
        let key = Key::from_hex(text(k, "key_hex")).expect("key");
        let suite: Suite = text(k, "suite").parse().expect("suite name");
        KeySpec::new(k["id"].as_u64().expect("id") as u32, key).suite(suite)
    };
    let first = keys.iter().find(|k| k["id"] == primary).expect("primary");
    let mut ring = Keyring::new(spec(first));
    for k in keys.iter().filter(|k| k["id"] != primary) {
        ring.add_accept_only(spec(k)).expect("add");
    }
    ring
}

/// Opens `value` with `codec` as the vector's data type; the error kind
/// on failure.
fn open_as_type(codec: &Codec, ring: &Keyring, v: &Value, value: &str) -> Result<Value, String> {
    fn open<T: Serialize + DeserializeOwned>(
        codec: &Codec,
        ring: &Keyring,
        value: &str,
        now: SystemTime,
    ) -> Result<Payload<T>, String> {
        codec
            .open_at::<Payload<T>>(ring, value, now)
            .map(|opened| opened.data)
            .map_err(|e| format!("{:?}", e.kind()))
    }
    let now = at(&v["now"]);
    let (csrf, flash, data) = match text(v, "data_type") {
        "string" | "none" => {
            let (csrf, flash, data) = open::<String>(codec, ring, value, now)?;
            (csrf, flash, data.map(Value::from))
        }
        "session_map" => {
            let (csrf, flash, data) = open::<SessionMap>(codec, ring, value, now)?;
            (csrf, flash, data.map(|map| map_json(&map)))
        }
        other => panic!("unknown data type {other}"),
    };
    assert_eq!(
        csrf.map(|s| hex(&s)).as_deref(),
        v["csrf_secret_hex"].as_str()
    );
    assert_eq!(
        Value::from(flash.iter().map(flash_json).collect::<Vec<_>>()),
        v["flash"]
    );
    Ok(data.unwrap_or(Value::Null))
}

/// The session layer's payload (FORMAT.md §6.3) as a tuple.
type Payload<T> = (Option<[u8; 32]>, Vec<FlashMessage>, Option<T>);

fn flash_json(message: &FlashMessage) -> Value {
    serde_json::json!({
        "level": message.level.as_str(),
        "level_index": message.level as u8,
        "text": message.text,
    })
}

/// A session map as the vectors write it: keys to hex of the value bytes.
fn map_json(map: &SessionMap) -> Value {
    let bytes = postcard::to_allocvec(map).expect("encode");
    let entries: std::collections::BTreeMap<String, Vec<u8>> =
        postcard::from_bytes(&bytes).expect("decode");
    entries
        .into_iter()
        .map(|(k, v)| (k, Value::from(hex(&v))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn valid_vectors_open() {
    let file = file();
    assert_eq!(file["format_version"], 1);
    let valid = file["valid"].as_array().expect("valid");
    assert!(valid.len() >= 18);
    let ring = keyring(&file, 1);
    for v in valid {
        let codec = Codec::new(text(v, "cookie_name")).expect("codec");
        let value = text(v, "value");
        if v["parts"] != 0 {
            // A chunked value opens only with its chunk count (see the
            // session manager test below), never as one cookie.
            assert!(codec.open_raw_at(&ring, value, at(&v["now"])).is_err());
            continue;
        }
        let data = open_as_type(&codec, &ring, v, value)
            .unwrap_or_else(|e| panic!("{} vector failed: {e}", v["description"]));
        assert_eq!(data, v["data"]);
        let opened = codec
            .open_raw_at(&ring, value, at(&v["now"]))
            .expect("opens");
        assert_eq!(
            u64::from(opened.key_id()),
            v["key_id"].as_u64().expect("id")
        );
        assert_eq!(
            ring.suite(opened.key_id()).map(|s| s.name()),
            v["suite"].as_str()
        );
        assert_eq!(hex(opened.data_bytes()), v["payload_hex"]);
        assert_eq!(
            u64::from(opened.meta().profile().get()),
            v["profile"].as_u64().expect("profile")
        );
        let meta = opened.meta();
        assert_eq!(
            meta.session_id().as_bytes().to_vec(),
            from_hex(text(v, "session_id_hex"))
        );
        assert_eq!(meta.issued_at(), at(&v["issued_at"]));
        let time = |field: &str| (!v[field].is_null()).then(|| at(&v[field]));
        assert_eq!(meta.absolute_expiry(), time("absolute_expiry"));
        assert_eq!(meta.idle_expiry(), time("idle_expiry"));
        assert_eq!(
            u64::from(meta.data_version()),
            v["data_version"].as_u64().expect("version")
        );
        assert_eq!(opened.needs_reseal(), opened.key_id() != 1);
    }
}

#[test]
fn invalid_vectors_fail_with_the_recorded_kind() {
    let file = file();
    let invalid = file["invalid"].as_array().expect("invalid");
    assert!(invalid.len() >= 30);
    let ring = keyring(&file, 1);
    for v in invalid {
        let codec = Codec::new(text(v, "cookie_name")).expect("codec");
        let err =
            open_as_type(&codec, &ring, v, text(v, "value")).expect_err(text(v, "description"));
        assert_eq!(err, v["expected"], "{}", v["description"]);
    }
}

#[test]
fn vectors_stop_opening_once_their_key_is_retired() {
    let file = file();
    let mut ring = keyring(&file, 1);
    ring.retire(2).expect("retire");
    for v in file["valid"].as_array().expect("valid") {
        if v["parts"] != 0 {
            continue;
        }
        let codec = Codec::new(text(v, "cookie_name")).expect("codec");
        let result = codec.open_raw_at(&ring, text(v, "value"), at(&v["now"]));
        assert_eq!(result.is_ok(), v["key_id"] != 2);
    }
}

/// Unsigned LEB128, as FORMAT.md describes varints.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// base64url without padding, as FORMAT.md describes the value's text.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut block = [0u8; 3];
        block[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes([0, block[0], block[1], block[2]]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Every valid vector, rebuilt from its fields and FORMAT.md only: the
/// envelope from LEB128 varints, the AAD from its layout, the AEAD from
/// the RustCrypto crates given the key, nonce and AAD, and the text from
/// an unpadded base64url written here.
#[test]
fn valid_vectors_follow_the_documented_layout() {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let file = file();
    let keys = file["keys"].as_array().expect("keys");
    for v in file["valid"].as_array().expect("valid") {
        let description = text(v, "description");
        // The envelope.
        let mut plain = from_hex(text(v, "session_id_hex"));
        assert_eq!(plain.len(), 16);
        varint(v["issued_at"].as_u64().expect("issued"), &mut plain);
        varint(v["sealed_at"].as_u64().expect("sealed"), &mut plain);
        for field in ["absolute_expiry", "idle_expiry"] {
            match v[field].as_u64() {
                None => plain.push(0),
                Some(t) => {
                    plain.push(1);
                    varint(t, &mut plain);
                }
            }
        }
        varint(v["data_version"].as_u64().expect("version"), &mut plain);
        plain.push(v["profile"].as_u64().expect("profile") as u8);
        // The session layer's payload: CSRF secret, flash messages, data.
        let mut payload = Vec::new();
        match v["csrf_secret_hex"].as_str() {
            None => payload.push(0),
            Some(secret) => {
                payload.push(1);
                let secret = from_hex(secret);
                assert_eq!(secret.len(), 32);
                payload.extend_from_slice(&secret);
            }
        }
        let flash = v["flash"].as_array().expect("flash");
        varint(flash.len() as u64, &mut payload);
        for message in flash {
            varint(
                message["level_index"].as_u64().expect("level"),
                &mut payload,
            );
            let text = text(message, "text");
            varint(text.len() as u64, &mut payload);
            payload.extend_from_slice(text.as_bytes());
        }
        let mut data = Vec::new();
        match text(v, "data_type") {
            "none" => {}
            "string" => {
                let s = text(v, "data");
                varint(s.len() as u64, &mut data);
                data.extend_from_slice(s.as_bytes());
            }
            _ => {
                let map = v["data"].as_object().expect("map");
                varint(map.len() as u64, &mut data);
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                for key in keys {
                    varint(key.len() as u64, &mut data);
                    data.extend_from_slice(key.as_bytes());
                    let value = from_hex(map[key].as_str().expect("hex"));
                    varint(value.len() as u64, &mut data);
                    data.extend_from_slice(&value);
                }
            }
        }
        if v["data_hex"].is_null() {
            assert_eq!(text(v, "data_type"), "none");
            payload.push(0);
        } else {
            assert_eq!(hex(&data), v["data_hex"], "{description}");
            payload.push(1);
            payload.extend_from_slice(&data);
        }
        assert_eq!(hex(&payload), v["payload_hex"], "{description}");
        plain.extend_from_slice(&payload);
        assert_eq!(hex(&plain), v["plaintext_hex"], "{description}");

        // The header and the AAD.
        let id = v["key_id"].as_u64().expect("id") as u32;
        let mut header = vec![1u8];
        header.extend_from_slice(&id.to_be_bytes());
        let name = text(v, "cookie_name").as_bytes();
        let context = text(v, "context").as_bytes();
        let mut aad = header.clone();
        aad.extend_from_slice(&(name.len() as u16).to_be_bytes());
        aad.extend_from_slice(name);
        aad.extend_from_slice(&(context.len() as u16).to_be_bytes());
        aad.extend_from_slice(context);
        aad.push(v["parts"].as_u64().expect("parts") as u8);
        assert_eq!(hex(&aad), v["aad_hex"], "{description}");

        // The AEAD, by the key's suite.
        let key = keys.iter().find(|k| k["id"] == id).expect("key");
        let key_bytes = from_hex(text(key, "key_hex"));
        let nonce = from_hex(text(v, "nonce_hex"));
        let mut body = plain.clone();
        let tag: Vec<u8> = match text(key, "suite") {
            "xaes-256-gcm" => {
                let cipher =
                    xaes_256_gcm::Xaes256Gcm::new(key_bytes.as_slice().try_into().expect("32"));
                let nonce = nonce.as_slice().try_into().expect("24-byte nonce");
                cipher
                    .encrypt_inout_detached(nonce, &aad, body.as_mut_slice().into())
                    .expect("seal")
                    .to_vec()
            }
            "xchacha20-poly1305" => {
                let cipher = chacha20poly1305::XChaCha20Poly1305::new(
                    key_bytes.as_slice().try_into().expect("32"),
                );
                let nonce = nonce.as_slice().try_into().expect("24-byte nonce");
                cipher
                    .encrypt_inout_detached(nonce, &aad, body.as_mut_slice().into())
                    .expect("seal")
                    .to_vec()
            }
            "aes-256-gcm" => {
                let cipher = aes_gcm::Aes256Gcm::new(key_bytes.as_slice().try_into().expect("32"));
                let nonce = nonce.as_slice().try_into().expect("12-byte nonce");
                cipher
                    .encrypt_inout_detached(nonce, &aad, body.as_mut_slice().into())
                    .expect("seal")
                    .to_vec()
            }
            other => panic!("unknown suite {other}"),
        };
        let mut bytes = header;
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&tag);
        let value = base64url(&bytes);
        assert_eq!(value, v["value"], "{description}");

        // Chunks: plain consecutive pieces of the value.
        if let Some(chunks) = v["chunks"].as_array() {
            let joined: String = chunks.iter().map(|c| c.as_str().expect("chunk")).collect();
            assert_eq!(joined, value, "{description}");
            assert_eq!(chunks.len() as u64, v["parts"].as_u64().expect("parts"));
        }
    }
}

struct At(SystemTime);

impl Clock for At {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Sends the vector as cookies to a manager configured as the file's
/// `configuration` says; the data, or the rejection.
fn load<T>(
    config: SessionConfig,
    v: &Value,
    file: &Value,
) -> Result<(Option<T>, Vec<FlashMessage>), Option<InvalidCookie>>
where
    T: Serialize + DeserializeOwned + Clone,
{
    let conf = &file["configuration"];
    let keyring: Keyring = text(conf, "keyring").parse().expect("keyring string");
    assert_eq!(
        u64::from(keyring.primary_id()),
        conf["primary_key_id"].as_u64().expect("id")
    );
    let manager = SessionManager::<T>::new(config, KeyringHandle::new(keyring))
        .expect("config")
        .with_clock(At(at(&v["now"])));
    let name = text(v, "cookie_name");
    let cookie = match v["chunks"].as_array() {
        None => format!("{name}={}", text(v, "value")),
        Some(chunks) => chunks
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{name}.{i}={}", c.as_str().expect("chunk")))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_str(&cookie).expect("header"));
    let mut session = manager.load(&headers, Connection::new(None, true));
    let data = session.get().cloned();
    if let Some(rejection) = session.invalid_cookie() {
        return Err(Some(rejection.clone()));
    }
    Ok((data, session.take_flash()))
}

/// What `configuration` promises: the keyring string, cookie name and
/// defaults open every valid value (data version 0) in a session manager
/// with no other setting; the chunked one with the chunk limit; the data
/// version 7 one only with that data version.
#[test]
fn valid_vectors_open_in_a_default_session_manager() {
    let file = file();
    let conf = &file["configuration"];
    assert_eq!(conf["data_version"], 0);
    assert_eq!(conf["context_hex"], "");
    let name = text(conf, "cookie_name");
    let max_chunks = conf["max_chunks"].as_u64().expect("chunks") as u8;
    for v in file["valid"].as_array().expect("valid") {
        assert_eq!(v["cookie_name"], name);
        let mut config = SessionConfig::new(CookieConfig::new(name));
        if v["parts"] != 0 {
            config = config.chunking(max_chunks);
        }
        let version = v["data_version"].as_u64().expect("version") as u32;
        let opened = |config: SessionConfig| {
            let (data, flash) = match text(v, "data_type") {
                "string" | "none" => {
                    load::<String>(config, v, &file).map(|(d, f)| (d.map(Value::from), f))?
                }
                _ => load::<SessionMap>(config, v, &file)
                    .map(|(d, f)| (d.map(|m| map_json(&m)), f))?,
            };
            assert_eq!(
                Value::from(flash.iter().map(flash_json).collect::<Vec<_>>()),
                v["flash"],
                "{}",
                v["description"]
            );
            Ok(data.unwrap_or(Value::Null))
        };
        if version == 0 {
            assert_eq!(
                opened(config),
                Ok(v["data"].clone()),
                "{}",
                v["description"]
            );
        } else {
            assert_eq!(
                opened(config.clone()),
                Err(Some(InvalidCookie::DataVersion(version)))
            );
            assert_eq!(opened(config.data_version(version)), Ok(v["data"].clone()));
        }
    }
}
