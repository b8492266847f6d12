use sealed_session::Suite;

use crate::*;

#[test]
fn reference_base64url() {
    assert_eq!(decode_base64url(b"").as_deref(), Some(&[][..]));
    assert_eq!(decode_base64url(b"AQ").as_deref(), Some(&[1][..]));
    assert_eq!(decode_base64url(b"AR"), None, "non-zero trailing bits");
    assert_eq!(decode_base64url(b"AQ=="), None, "padding");
    assert_eq!(decode_base64url(b"A"), None);
    assert_eq!(
        decode_base64url(b"-_-_").as_deref(),
        Some(&[0xfb, 0xff, 0xbf][..])
    );
    assert_eq!(decode_base64url(b"+/+/"), None, "standard alphabet");
    assert_eq!(
        decode_base64url(b"AQAAAAEA").as_deref(),
        Some(&[1, 0, 0, 0, 1, 0][..])
    );
}

#[test]
fn fixed_keyring() {
    assert_eq!(keyring(1).key_ids(), vec![1, 2, 3]);
    assert_eq!(keyring(3).key_ids(), vec![3, 1, 2]);
    assert_eq!(keyring(2).suite(2), Some(Suite::XChaCha20Poly1305));
}

/// The committed `open` seeds reach the checks they were made for.
#[test]
fn open_seeds_reach_their_checks() {
    use sealed_session::ErrorKind;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/open");
    let ring = keyring(1);
    let expected = [
        ("seed-xaes-valid", None),
        ("seed-xchacha-valid", None),
        ("seed-aes-valid", None),
        ("seed-empty-map", None),
        ("seed-not-a-map", Some(ErrorKind::PayloadDecode)),
        ("seed-expired-idle", Some(ErrorKind::ExpiredIdle)),
        ("seed-not-yet-valid", Some(ErrorKind::NotYetValid)),
        ("seed-other-name", Some(ErrorKind::AuthenticationFailed)),
        ("seed-unknown-key", Some(ErrorKind::UnknownKey)),
    ];
    for (name, kind) in expected {
        let value = std::fs::read_to_string(dir.join(name)).expect(name);
        let result = codec().open_at::<MapData>(&ring, &value, now());
        assert_eq!(result.err().map(|e| e.kind()), kind, "{name}");
    }
}

/// The reference envelope decoder (written from FORMAT.md, without
/// postcard) and the crate's agree on the seeds, on their non-canonical
/// variants, and on many random mutations of them.
#[test]
fn reference_envelope_decoder_agrees() {
    use sealed_session::fuzzing::decode_envelope;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/envelope");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed"))
        .collect();
    let full = std::fs::read(dir.join("seed-full")).expect("seed-full");
    assert!(reference_decode_envelope(&full) && decode_envelope(&full));
    // Every varint of the seed made one byte longer, where it ends.
    for end in 17..full.len() {
        if full[end - 1] & 0x80 == 0 {
            let mut longer = full[..end].to_vec();
            *longer.last_mut().expect("byte") |= 0x80;
            longer.push(0);
            longer.extend_from_slice(&full[end..]);
            inputs.push(longer);
        }
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds = inputs.clone();
    for _ in 0..20_000 {
        let mut bytes = seeds[next() as usize % seeds.len()].clone();
        for _ in 0..=(next() % 3) {
            if bytes.is_empty() {
                break;
            }
            let at = next() as usize % bytes.len();
            match next() % 4 {
                0 => bytes[at] ^= 1 << (next() % 8),
                1 => bytes[at] = [0x00, 0x01, 0x02, 0x80, 0xff][next() as usize % 5],
                2 => {
                    bytes.insert(at, (next() % 256) as u8);
                }
                _ => {
                    bytes.remove(at);
                }
            }
        }
        inputs.push(bytes);
    }
    let mut accepted = 0;
    for input in &inputs {
        let crate_says = decode_envelope(input);
        assert_eq!(crate_says, reference_decode_envelope(input), "{input:02x?}");
        accepted += usize::from(crate_says);
    }
    assert!(accepted > 100 && accepted < inputs.len() / 2, "{accepted}");
}

/// The committed `cookie_header` seeds reach the checks they were made
/// for.
#[test]
fn cookie_header_seeds_reach_their_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cookie_header");
    for &(name, opens, kind, set_cookies) in seeds::COOKIE_SEEDS {
        let bytes = std::fs::read(dir.join(format!("seed-{name}"))).expect(name);
        let input = cookie_input(&bytes).expect(name);
        let manager = session_manager(input.max_chunks);
        let connection = sealed_session::adapter::Connection::new(None, true);
        let mut session = manager.load(&input.headers, connection);
        assert_eq!(session.get().is_some(), opens, "{name}");
        let rejection = session
            .invalid_cookie()
            .and_then(sealed_session::InvalidCookie::kind);
        assert_eq!(rejection, kind, "{name}");
        let outcome = session.save().expect(name);
        assert_eq!(outcome.set_cookie.len(), set_cookies, "{name}");
    }
}

/// The committed `proxy_headers` seeds get the decisions they were
/// made for, and the reference agrees.
#[test]
fn proxy_headers_seeds_reach_their_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/proxy_headers");
    let trust = sealed_session::ProxyTrust::cidrs(["10.0.0.0/8", "fd00::/8"]).expect("ranges");
    for &(name, peer, lines, expected) in seeds::PROXY_SEEDS {
        let bytes = std::fs::read(dir.join(format!("seed-{name}"))).expect(name);
        assert_eq!(bytes, seeds::proxy_input(peer, lines), "{name}");
        let input = proxy_input(&bytes).expect(name);
        let decision = trust.request_scheme(&input.headers, input.peer, false);
        assert_eq!((decision.is_https(), decision.source()), expected, "{name}");
        if input.peer.is_some_and(|p| trust.trusts_peer(p)) {
            let forwarded: Vec<&[u8]> = input.forwarded.iter().map(Vec::as_slice).collect();
            let x: Vec<&[u8]> = input.x_forwarded_proto.iter().map(Vec::as_slice).collect();
            assert_eq!(
                reference_forwarded_scheme(&forwarded, &x),
                expected,
                "{name}"
            );
        }
    }
}

/// Writes the seed corpus. Sealed values carry random nonces and
/// session ids, so each run produces new (equally valid) files.
#[test]
#[ignore = "writes fuzz/corpus; run on purpose"]
fn regenerate_seed_corpus() {
    seeds::write_all();
}

/// The committed `legacy` seeds, cookies the peers minted under the fixed
/// legacy key, open at the target's clock with the source's shape.
#[test]
fn legacy_seeds_open() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/legacy");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir).expect("legacy corpus") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("seed");
        let (source, value) = legacy_input(&bytes).expect("a source byte");
        let session = sealed_session::fuzzing::decode_legacy(&legacy_cookie(source), &value, now())
            .unwrap_or_else(|reason| panic!("{}: {reason}", path.display()));
        assert_eq!(session.source(), source);
        seen.push(source);
    }
    for source in sealed_session::migrate::LegacySource::ALL {
        assert!(seen.contains(&source), "no seed for {source}");
    }
}
