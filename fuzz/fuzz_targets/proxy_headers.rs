//! Deciding whether a request is HTTPS from arbitrary `Forwarded` and
//! `X-Forwarded-Proto` headers and an arbitrary peer, under several trust
//! configurations, over TLS and not.
//!
//! Input: one byte choosing the peer (`% 3`: none, IPv4 from the first 4
//! of the next 16 bytes, IPv6 from all 16), 16 address bytes, then header
//! lines separated by `\n`. A line starting with `F` is a `Forwarded` value
//! and one starting with `X` an `X-Forwarded-Proto` value (the rest of the
//! line; lower-case `f` and `x` repeat it 64 times, to reach the length
//! limit); any other line is the value of an unrelated header that must be
//! ignored. Values `HeaderValue` refuses are dropped. See
//! `sealed_session_fuzz::proxy_input`.
//!
//! Never https without TLS under `ProxyTrust::none()`; TLS and
//! `assume_https` always win; an untrusted peer gets the same answer as
//! with no headers at all; a trusted peer gets what a reference reader of
//! the documented rules says, whoever the peer is, and unrelated headers
//! change nothing.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use sealed_session::ProxyTrust;
use sealed_session::adapter::{SchemeDecision, SchemeSource};
use sealed_session_fuzz::{ProxyInput, proxy_input, reference_forwarded_scheme};

struct Config {
    trust: ProxyTrust,
    /// Whether the configuration trusts this peer, by the documented rules.
    trusts: fn(Option<IpAddr>) -> bool,
    assumes_https: bool,
}

fn nobody(_: Option<IpAddr>) -> bool {
    false
}

fn anybody(peer: Option<IpAddr>) -> bool {
    peer.is_some()
}

/// `10.0.0.0/8` and `fd00::/8`, IPv4-mapped IPv6 addresses as IPv4.
fn in_ranges(peer: Option<IpAddr>) -> bool {
    let ten = |v4: Ipv4Addr| v4.octets()[0] == 10;
    match peer {
        None => false,
        Some(IpAddr::V4(v4)) => ten(v4),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => ten(v4),
            None => v6.octets()[0] == 0xfd,
        },
    }
}

static CONFIGS: LazyLock<Vec<Config>> = LazyLock::new(|| {
    let cidrs = || ProxyTrust::cidrs(["10.0.0.0/8", "fd00::/8"]).expect("valid ranges");
    vec![
        Config {
            trust: ProxyTrust::none(),
            trusts: nobody,
            assumes_https: false,
        },
        Config {
            trust: cidrs(),
            trusts: in_ranges,
            assumes_https: false,
        },
        Config {
            trust: ProxyTrust::immediate_peer(),
            trusts: anybody,
            assumes_https: false,
        },
        Config {
            trust: ProxyTrust::none().assume_https(),
            trusts: nobody,
            assumes_https: true,
        },
        Config {
            trust: cidrs().assume_https(),
            trusts: in_ranges,
            assumes_https: true,
        },
    ]
});

fn pair(decision: SchemeDecision) -> (bool, SchemeSource) {
    (decision.is_https(), decision.source())
}

fuzz_target!(|data: &[u8]| {
    let Some(ProxyInput {
        peer,
        headers,
        relevant,
        forwarded,
        x_forwarded_proto,
    }) = proxy_input(data)
    else {
        return;
    };
    let forwarded: Vec<&[u8]> = forwarded.iter().map(Vec::as_slice).collect();
    let x_forwarded_proto: Vec<&[u8]> = x_forwarded_proto.iter().map(Vec::as_slice).collect();
    let expected = reference_forwarded_scheme(&forwarded, &x_forwarded_proto);
    let empty = HeaderMap::new();

    for (index, config) in CONFIGS.iter().enumerate() {
        let trust = &config.trust;
        let trusted = (config.trusts)(peer);
        assert_eq!(
            peer.is_some_and(|p| trust.trusts_peer(p)),
            trusted,
            "config {index}, peer {peer:?}"
        );
        if let Some(IpAddr::V4(v4)) = peer {
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            assert_eq!(trust.trusts_peer(mapped), trusted, "{mapped}");
        }

        let tls = trust.request_scheme(&headers, peer, true);
        assert_eq!(pair(tls), (true, SchemeSource::ConnectionTls));

        let decision = trust.request_scheme(&headers, peer, false);
        let _ = decision.insecure_context_hint();
        let _ = format!("{decision:?}");
        if index == 0 {
            assert!(!decision.is_https(), "ProxyTrust::none() without TLS");
        }
        if config.assumes_https {
            assert_eq!(pair(decision), (true, SchemeSource::AssumedHttps));
            continue;
        }
        if !trusted {
            assert_eq!(decision, trust.request_scheme(&empty, peer, false));
            assert_eq!(pair(decision), (false, SchemeSource::NoTrustedProxy));
            continue;
        }
        assert_eq!(
            pair(decision),
            expected,
            "config {index}, Forwarded {:?}, X-Forwarded-Proto {:?}",
            forwarded
                .iter()
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>(),
            x_forwarded_proto
                .iter()
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>(),
        );
        assert_eq!(decision, trust.request_scheme(&relevant, peer, false));
        if decision.is_https() {
            assert!(matches!(
                decision.source(),
                SchemeSource::Forwarded | SchemeSource::XForwardedProto
            ));
        }
    }
});
