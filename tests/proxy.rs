//! Deciding whether a request is HTTPS behind a TLS-terminating proxy:
//! only a trusted peer's forwarded headers count, and every doubt means
//! "not HTTPS".

use std::net::IpAddr;

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use sealed_session::adapter::{SchemeDecision, SchemeSource};
use sealed_session::{ConfigError, ProxyTrust};

const XFP: &str = "x-forwarded-proto";
const FWD: &str = "forwarded";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn headers(lines: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in lines {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn ten_slash_eight() -> ProxyTrust {
    ProxyTrust::cidrs(["10.0.0.0/8"]).unwrap()
}

/// The decision of a `10.0.0.0/8` configuration for a plain-HTTP request
/// from the trusted peer `10.0.0.2`.
fn from_proxy(lines: &[(&'static str, &str)]) -> SchemeDecision {
    ten_slash_eight().request_scheme(&headers(lines), Some(ip("10.0.0.2")), false)
}

fn assert_decision(decision: SchemeDecision, https: bool, source: SchemeSource) {
    assert_eq!(decision.is_https(), https, "{decision:?}");
    assert_eq!(decision.source(), source, "{decision:?}");
}

// J1: the peer decides whether the headers are read at all.

#[test]
fn j1_untrusted_peer_claiming_https_is_not_https() {
    let trust = ten_slash_eight();
    let decision =
        trust.request_scheme(&headers(&[(XFP, "https")]), Some(ip("203.0.113.5")), false);
    assert_decision(decision, false, SchemeSource::NoTrustedProxy);
}

#[test]
fn j1_trusted_peer_saying_https_is_https() {
    assert_decision(
        from_proxy(&[(XFP, "https")]),
        true,
        SchemeSource::XForwardedProto,
    );
}

#[test]
fn j1_trusted_peer_saying_http_is_not_https() {
    assert_decision(
        from_proxy(&[(XFP, "http")]),
        false,
        SchemeSource::XForwardedProto,
    );
}

#[test]
fn j1_trusted_peer_without_header_is_not_https() {
    assert_decision(from_proxy(&[]), false, SchemeSource::NoHeader);
}

#[test]
fn j1_ipv4_mapped_ipv6_peer_is_matched_as_ipv4() {
    let trust = ten_slash_eight();
    assert!(trust.trusts_peer(ip("::ffff:10.0.0.2")));
    assert!(!trust.trusts_peer(ip("::ffff:11.0.0.2")));
    let decision = trust.request_scheme(
        &headers(&[(XFP, "https")]),
        Some(ip("::ffff:10.0.0.2")),
        false,
    );
    assert_decision(decision, true, SchemeSource::XForwardedProto);
}

#[test]
fn ipv6_ranges_and_range_edges() {
    let trust = ProxyTrust::cidrs(["fd00::/8", "192.168.1.0/24", "::1"]).unwrap();
    assert!(trust.trusts_peer(ip("fd12:3456::1")));
    assert!(!trust.trusts_peer(ip("fe80::1")));
    assert!(trust.trusts_peer(ip("::1")));
    assert!(!trust.trusts_peer(ip("::2")));
    assert!(trust.trusts_peer(ip("192.168.1.0")));
    assert!(trust.trusts_peer(ip("192.168.1.255")));
    assert!(!trust.trusts_peer(ip("192.168.2.0")));
    assert!(!trust.trusts_peer(ip("192.168.0.255")));
    // An IPv6 range does not match IPv4 peers, nor the other way round.
    assert!(
        !ProxyTrust::cidrs(["::/0"])
            .unwrap()
            .trusts_peer(ip("10.0.0.2"))
    );
    assert!(
        !ProxyTrust::cidrs(["0.0.0.0/0"])
            .unwrap()
            .trusts_peer(ip("fd00::1"))
    );
    // A range written as IPv4-mapped IPv6 covers the IPv4 addresses.
    let mapped = ProxyTrust::cidrs(["::ffff:10.0.0.0/104"]).unwrap();
    assert!(mapped.trusts_peer(ip("10.9.8.7")));
    assert!(mapped.trusts_peer(ip("::ffff:10.9.8.7")));
    assert!(!mapped.trusts_peer(ip("11.0.0.1")));
}

// J2: `Forwarded`, the nearest proxy's element only.

#[test]
fn j2_last_element_wins_over_client_supplied_first() {
    assert_decision(
        from_proxy(&[(FWD, "proto=https, proto=http")]),
        false,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, "proto=http, proto=https")]),
        true,
        SchemeSource::Forwarded,
    );
}

#[test]
fn j2_element_with_other_pairs() {
    assert_decision(
        from_proxy(&[(FWD, "for=1.2.3.4;proto=https")]),
        true,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(
            FWD,
            r#"for="[2001:db8::1]:4711";by=10.0.0.2;host=example.com;proto=https"#,
        )]),
        true,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, "For=1.2.3.4; PROTO=HTTPS")]),
        true,
        SchemeSource::Forwarded,
    );
}

#[test]
fn j2_quoted_values() {
    assert_decision(
        from_proxy(&[(FWD, r#"proto="https""#)]),
        true,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, r#"proto="h\ttps""#)]),
        true,
        SchemeSource::Forwarded,
    );
    // A comma or semicolon inside quotes does not split.
    assert_decision(
        from_proxy(&[(FWD, r#"for="a,proto=https";proto=http"#)]),
        false,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, r#"proto=http, for="x;y,z";proto=https"#)]),
        true,
        SchemeSource::Forwarded,
    );
    // An escaped quote does not close the string.
    assert_decision(
        from_proxy(&[(FWD, r#"for="a\", proto=https"#)]),
        false,
        SchemeSource::Ambiguous,
    );
}

#[test]
fn j2_last_field_line_is_used() {
    assert_decision(
        from_proxy(&[(FWD, "proto=https"), (FWD, "for=1.2.3.4;proto=http")]),
        false,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, "proto=http"), (FWD, "proto=https")]),
        true,
        SchemeSource::Forwarded,
    );
    // Garbage from the client on an earlier line does not spoil the
    // proxy's line.
    assert_decision(
        from_proxy(&[(FWD, r#"for="unterminated"#), (FWD, "proto=https")]),
        true,
        SchemeSource::Forwarded,
    );
}

#[test]
fn j2_unusable_element_is_ambiguous() {
    for value in [
        "garbage",
        "proto=https;proto=https",
        "proto=https;proto=http",
        "for=1.2.3.4",
        "proto=wss",
        "proto=",
        "proto",
        "=https",
        r#"proto="https"#,
        r#"proto="https"x"#,
        r#"proto=ht"tp"s"#,
        "proto=https;for=a b",
        "proto = https",
        ",",
        "",
        r#"proto=https, for=""#,
    ] {
        assert_decision(from_proxy(&[(FWD, value)]), false, SchemeSource::Ambiguous);
    }
}

#[test]
fn j2_client_leaving_a_quote_open_cannot_absorb_the_proxy_element() {
    // The client sent `proto=https;x="`, the proxy appended its element.
    assert_decision(
        from_proxy(&[(FWD, r#"proto=https;x=", for=10.0.0.9;proto=http"#)]),
        false,
        SchemeSource::Ambiguous,
    );
    assert_decision(
        from_proxy(&[(FWD, r#"proto=https;x=", for="10.0.0.9";proto=http"#)]),
        false,
        SchemeSource::Ambiguous,
    );
}

#[test]
fn j2_hand_written_ipv6_for_does_not_spoil_the_element() {
    assert_decision(
        from_proxy(&[(FWD, "for=2001:db8::1;proto=https")]),
        true,
        SchemeSource::Forwarded,
    );
}

// J3: `X-Forwarded-Proto` with several values.

#[test]
fn j3_disagreeing_values_are_ambiguous() {
    assert_decision(
        from_proxy(&[(XFP, "https, http")]),
        false,
        SchemeSource::Ambiguous,
    );
    assert_decision(
        from_proxy(&[(XFP, "http, https")]),
        false,
        SchemeSource::Ambiguous,
    );
    assert_decision(
        from_proxy(&[(XFP, "https"), (XFP, "http")]),
        false,
        SchemeSource::Ambiguous,
    );
}

#[test]
fn j3_agreeing_values_are_used() {
    assert_decision(
        from_proxy(&[(XFP, "https"), (XFP, "https")]),
        true,
        SchemeSource::XForwardedProto,
    );
    assert_decision(
        from_proxy(&[(XFP, " https , HTTPS ,")]),
        true,
        SchemeSource::XForwardedProto,
    );
    assert_decision(
        from_proxy(&[(XFP, "HTTPS")]),
        true,
        SchemeSource::XForwardedProto,
    );
    assert_decision(
        from_proxy(&[(XFP, "http, http")]),
        false,
        SchemeSource::XForwardedProto,
    );
}

#[test]
fn j3_unknown_or_empty_values_are_ambiguous() {
    for value in [
        "",
        " , ",
        "wss",
        "https; q=1",
        "\"https\"",
        "https http",
        "on",
    ] {
        assert_decision(from_proxy(&[(XFP, value)]), false, SchemeSource::Ambiguous);
    }
    assert_decision(
        from_proxy(&[(XFP, "https"), (XFP, "ftp")]),
        false,
        SchemeSource::Ambiguous,
    );
}

// Both headers.

#[test]
fn forwarded_is_reported_when_both_headers_agree() {
    assert_decision(
        from_proxy(&[(FWD, "proto=https"), (XFP, "https")]),
        true,
        SchemeSource::Forwarded,
    );
    assert_decision(
        from_proxy(&[(FWD, "proto=http"), (XFP, "http")]),
        false,
        SchemeSource::Forwarded,
    );
}

#[test]
fn disagreeing_headers_are_ambiguous_whichever_says_https() {
    // A proxy that overwrites X-Forwarded-Proto but passes the client's
    // Forwarded through: the client's `proto=https` must not win.
    assert_decision(
        from_proxy(&[(FWD, "proto=https"), (XFP, "http")]),
        false,
        SchemeSource::Ambiguous,
    );
    // And the other way round.
    assert_decision(
        from_proxy(&[(FWD, "for=1.2.3.4;proto=http"), (XFP, "https")]),
        false,
        SchemeSource::Ambiguous,
    );
}

#[test]
fn one_unusable_header_spoils_the_other() {
    assert_decision(
        from_proxy(&[(FWD, "proto=https"), (XFP, "https, http")]),
        false,
        SchemeSource::Ambiguous,
    );
    assert_decision(
        from_proxy(&[(FWD, "garbage"), (XFP, "https")]),
        false,
        SchemeSource::Ambiguous,
    );
}

// Configurations.

#[test]
fn none_ignores_headers_even_from_loopback() {
    let trust = ProxyTrust::none();
    let map = headers(&[(XFP, "https"), (FWD, "proto=https")]);
    assert_decision(
        trust.request_scheme(&map, Some(ip("127.0.0.1")), false),
        false,
        SchemeSource::NoTrustedProxy,
    );
    assert!(
        !ProxyTrust::default()
            .request_scheme(&map, Some(ip("127.0.0.1")), false)
            .is_https()
    );
    assert!(!trust.trusts_peer(ip("127.0.0.1")));
}

#[test]
fn immediate_peer_trusts_any_address_but_not_a_missing_one() {
    let trust = ProxyTrust::immediate_peer();
    let map = headers(&[(XFP, "https")]);
    for peer in ["127.0.0.1", "203.0.113.5", "::1"] {
        assert_decision(
            trust.request_scheme(&map, Some(ip(peer)), false),
            true,
            SchemeSource::XForwardedProto,
        );
    }
    assert_decision(
        trust.request_scheme(&map, None, false),
        false,
        SchemeSource::NoTrustedProxy,
    );
    // Trusted, but still fail-closed on conflicts.
    let conflicting = headers(&[(XFP, "https, http")]);
    assert!(
        !trust
            .request_scheme(&conflicting, Some(ip("127.0.0.1")), false)
            .is_https()
    );
}

#[test]
fn missing_peer_is_https_only_through_tls_or_assumption() {
    let map = headers(&[(XFP, "https"), (FWD, "proto=https")]);
    let trust = ten_slash_eight();
    assert_decision(
        trust.request_scheme(&map, None, false),
        false,
        SchemeSource::NoTrustedProxy,
    );
    assert_decision(
        trust.request_scheme(&map, None, true),
        true,
        SchemeSource::ConnectionTls,
    );
    let assumed = ten_slash_eight().assume_https();
    assert_decision(
        assumed.request_scheme(&map, None, false),
        true,
        SchemeSource::AssumedHttps,
    );
}

#[test]
fn connection_tls_and_assumption_override_headers() {
    let says_http = headers(&[(XFP, "http"), (FWD, "proto=http")]);
    let peer = Some(ip("10.0.0.2"));
    assert_decision(
        ten_slash_eight().request_scheme(&says_http, peer, true),
        true,
        SchemeSource::ConnectionTls,
    );
    assert_decision(
        ProxyTrust::none()
            .assume_https()
            .request_scheme(&says_http, peer, false),
        true,
        SchemeSource::AssumedHttps,
    );
    assert_decision(
        ProxyTrust::none().request_scheme(&HeaderMap::new(), None, true),
        true,
        SchemeSource::ConnectionTls,
    );
}

#[test]
fn oversized_headers_are_ambiguous() {
    // 8 KiB and one byte.
    let long = format!("{}https", " ".repeat(8 * 1024 - 4));
    assert_decision(from_proxy(&[(XFP, &long)]), false, SchemeSource::Ambiguous);
    let long = format!("for=\"{}\";proto=https", "a".repeat(8 * 1024));
    assert_decision(from_proxy(&[(FWD, &long)]), false, SchemeSource::Ambiguous);
    // Many lines add up too.
    let many: Vec<(&'static str, &str)> = (0..3000).map(|_| (XFP, "https")).collect();
    assert_decision(from_proxy(&many), false, SchemeSource::Ambiguous);
    // Exactly 8 KiB is parsed.
    let fits = format!("{}https", " ".repeat(8 * 1024 - 5));
    assert_decision(
        from_proxy(&[(XFP, &fits)]),
        true,
        SchemeSource::XForwardedProto,
    );
}

#[test]
fn non_utf8_values_do_not_panic_and_are_unusable() {
    let mut map = HeaderMap::new();
    map.append(XFP, HeaderValue::from_bytes(b"http\xffs").unwrap());
    let decision = ten_slash_eight().request_scheme(&map, Some(ip("10.0.0.2")), false);
    assert_decision(decision, false, SchemeSource::Ambiguous);

    let mut map = HeaderMap::new();
    map.append(
        FWD,
        HeaderValue::from_bytes(b"for=\"\xe9\";proto=https").unwrap(),
    );
    let decision = ten_slash_eight().request_scheme(&map, Some(ip("10.0.0.2")), false);
    assert_decision(decision, true, SchemeSource::Forwarded);
}

// Configuration errors.

#[test]
fn bad_cidr_is_a_typed_error_with_the_fix() {
    for bad in [
        "10.0.0.0/33",
        "10.0.0/8",
        "fd00::/129",
        "10.0.0.0/-1",
        "example.com",
        "10.0.0.0/ 8",
    ] {
        let err = ProxyTrust::cidrs(["127.0.0.1/32", bad]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::InvalidProxyRange {
                entry: bad.to_owned()
            }
        );
        let message = err.to_string();
        assert!(message.contains(&format!("`{bad}`")), "{message}");
        assert!(
            message.contains("`10.0.0.0/8`") && message.contains("`::1/128`"),
            "{message}"
        );
    }
}

#[test]
fn host_bits_after_the_prefix_are_rejected_with_both_readings() {
    let err = ProxyTrust::cidrs(["10.1.2.3/8"]).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ConfigError::ProxyRangeHostBits { .. }));
    assert!(message.contains("`10.0.0.0/8`"), "{message}");
    assert!(message.contains("`10.1.2.3/32`"), "{message}");
}

#[test]
fn empty_range_list_is_an_error() {
    let err = ProxyTrust::cidrs(Vec::<String>::new()).unwrap_err();
    assert_eq!(err, ConfigError::NoProxyRanges);
    assert!(err.to_string().contains("ProxyTrust::none()"));
}

#[test]
fn ranges_accept_strings_and_spaces() {
    let from_env = String::from("10.0.0.0/8, 192.168.0.0/16");
    let trust = ProxyTrust::cidrs(from_env.split(',')).unwrap();
    assert!(trust.trusts_peer(ip("192.168.7.7")));
    assert!(format!("{trust:?}").contains("192.168.0.0/16"));
}

// Hints.

#[test]
fn hints_name_the_fix_for_each_source() {
    let no_header = from_proxy(&[]);
    assert!(
        no_header
            .insecure_context_hint()
            .contains("proxy_set_header X-Forwarded-Proto $scheme;")
    );

    let untrusted = ten_slash_eight().request_scheme(
        &headers(&[(XFP, "https")]),
        Some(ip("203.0.113.5")),
        false,
    );
    let hint = untrusted.insecure_context_hint();
    assert!(hint.contains("ProxyTrust::cidrs("), "{hint}");
    assert!(hint.contains("trust proxy"), "{hint}");

    let ambiguous = from_proxy(&[(XFP, "https, http")]);
    assert!(ambiguous.insecure_context_hint().contains("overwrite"));

    let plain = from_proxy(&[(XFP, "http")]);
    assert!(
        plain
            .insecure_context_hint()
            .contains("return 301 https://")
    );

    let hints = [
        no_header,
        untrusted,
        ambiguous,
        plain,
        from_proxy(&[(XFP, "https")]),
        from_proxy(&[(FWD, "proto=https")]),
        ProxyTrust::none().request_scheme(&HeaderMap::new(), None, true),
        ProxyTrust::none()
            .assume_https()
            .request_scheme(&HeaderMap::new(), None, false),
    ]
    .map(|d| d.insecure_context_hint());
    for (i, a) in hints.iter().enumerate() {
        assert!(!a.is_empty());
        for b in hints.iter().skip(i + 1) {
            if a == b {
                // Only the two "the proxy says HTTPS" decisions share one.
                assert!(a.contains("nothing to fix"), "{a}");
            }
        }
    }
}

#[test]
fn hints_never_echo_header_values() {
    let marker = "attacker-marker-1f2e";
    let values = [
        format!("https, {marker}"),
        format!("proto={marker}"),
        format!("for={marker}"),
        marker.to_owned(),
    ];
    for value in &values {
        for name in [XFP, FWD] {
            for peer in [Some(ip("10.0.0.2")), Some(ip("203.0.113.5")), None] {
                let decision =
                    ten_slash_eight().request_scheme(&headers(&[(name, value)]), peer, false);
                assert!(!decision.insecure_context_hint().contains(marker));
                assert!(!format!("{decision:?}").contains(marker));
            }
        }
    }
}

// Properties.

/// Bytes a header value may hold, built from fragments that often form
/// valid elements (`proto=https`, quoted strings, lists) and from single
/// arbitrary bytes.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    const FRAGMENTS: &[&[u8]] = &[
        b"proto=",
        b"https",
        b"http",
        b"HTTPS",
        b"\"https\"",
        b"for=1.2.3.4",
        b"for=",
        b", ",
        b",",
        b";",
        b"=",
        b"\"",
        b"\\",
        b" ",
        b"\t",
    ];
    let fragment = prop_oneof![
        6 => prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
        2 => (0x21u8..=0x7e).prop_map(|b| vec![b]),
        1 => (0x80u8..=0xff).prop_map(|b| vec![b]),
    ];
    prop::collection::vec(fragment, 0..16).prop_map(|parts| parts.concat())
}

fn header_map() -> impl Strategy<Value = HeaderMap> {
    let line = (prop::bool::ANY, header_bytes());
    prop::collection::vec(line, 0..5).prop_map(|lines| {
        let mut map = HeaderMap::new();
        for (forwarded, bytes) in lines {
            let name = if forwarded { FWD } else { XFP };
            map.append(name, HeaderValue::from_bytes(&bytes).unwrap());
        }
        map
    })
}

/// Peers outside `10.0.0.0/8`, or none.
fn untrusted_peer() -> impl Strategy<Value = Option<IpAddr>> {
    prop_oneof![
        Just(None),
        any::<u32>()
            .prop_filter("outside 10/8", |a| a >> 24 != 10)
            .prop_map(|a| Some(IpAddr::from(std::net::Ipv4Addr::from(a)))),
        any::<u128>()
            .prop_filter("not mapped 10/8", |a| *a >> 24 != 0x00ff_ff0a_u128)
            .prop_map(|a| Some(IpAddr::from(std::net::Ipv6Addr::from(a)))),
    ]
}

/// What a client puts before the proxy's appended value: random, or a
/// claim of HTTPS followed by random bytes.
fn client_prefix() -> impl Strategy<Value = Vec<u8>> {
    const CLAIMS: &[&[u8]] = &[b"proto=https", b"https", b"for=x;proto=\"https\""];
    let claim = prop::sample::select(CLAIMS);
    prop_oneof![
        header_bytes(),
        (claim, header_bytes()).prop_map(|(claim, rest)| [claim, rest.as_slice()].concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn untrusted_peer_is_never_https(map in header_map(), peer in untrusted_peer()) {
        let decision = ten_slash_eight().request_scheme(&map, peer, false);
        prop_assert!(!decision.is_https());
        prop_assert_eq!(decision.source(), SchemeSource::NoTrustedProxy);
    }

    #[test]
    fn trusted_peer_never_panics_and_https_only_from_headers(map in header_map()) {
        let decision = ten_slash_eight().request_scheme(&map, Some(ip("10.0.0.2")), false);
        if decision.is_https() {
            prop_assert!(matches!(
                decision.source(),
                SchemeSource::Forwarded | SchemeSource::XForwardedProto
            ));
        }
    }

    /// Whatever the client sent, a proxy that appends its own `http` to
    /// either header (on the same line or a new one) is never overruled.
    #[test]
    fn client_cannot_overrule_a_proxy_saying_http(
        client in header_map(),
        prefix in client_prefix(),
        same_line in prop::bool::ANY,
        forwarded in prop::bool::ANY,
    ) {
        let mut map = client;
        let (name, appended) = if forwarded {
            (FWD, &b", for=203.0.113.9;proto=http"[..])
        } else {
            (XFP, &b", http"[..])
        };
        let line = if same_line {
            [prefix.as_slice(), appended].concat()
        } else {
            appended.to_vec()
        };
        map.append(name, HeaderValue::from_bytes(&line).unwrap());
        let decision = ten_slash_eight().request_scheme(&map, Some(ip("10.0.0.2")), false);
        prop_assert!(!decision.is_https(), "{:?}", map);
    }

    /// A proxy that overwrites `X-Forwarded-Proto: http` and passes the
    /// client's `Forwarded` through is never overruled either.
    #[test]
    fn client_forwarded_cannot_overrule_proxy_x_forwarded_proto(client in header_map()) {
        let mut map = client;
        map.insert(XFP, HeaderValue::from_static("http"));
        let decision = ten_slash_eight().request_scheme(&map, Some(ip("10.0.0.2")), false);
        prop_assert!(!decision.is_https(), "{:?}", map);
    }
}
