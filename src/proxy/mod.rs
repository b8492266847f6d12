//! Whether a request is HTTPS, as far as a trusted proxy says: see
//! [`ProxyTrust`], whose documentation holds the rules.

use core::fmt;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::HeaderMap;
use http::header::{FORWARDED, GetAll, HeaderName, HeaderValue};

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// A forwarded header whose field lines add up to more than this many bytes
/// is unusable.
const MAX_FORWARDED_LEN: usize = 8 * 1024;

/// Which proxies' forwarded headers are believed when deciding whether a
/// request is HTTPS.
///
/// Behind a TLS-terminating proxy (nginx, a load balancer) the application
/// sees plain HTTP from the proxy, and only the proxy's `X-Forwarded-Proto`
/// or `Forwarded` header tells what the client used. Those headers are also
/// what any client can send, so they count only when the connection comes
/// from a proxy the application was told to trust. This is what express
/// calls `trust proxy`, made to fail closed.
///
/// The answer is for *diagnostics and refusals* (for example: do not start
/// a login over plain HTTP, or log why a `Secure` cookie will not come
/// back). It must never decide whether the session cookie gets `Secure`:
/// that attribute is always on.
///
/// ```
/// use std::net::IpAddr;
/// use http::HeaderMap;
/// use sealed_session::{ProxyTrust, SchemeSource};
///
/// let trust = ProxyTrust::cidrs(["10.0.0.0/8"])?;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-proto", "https".parse()?);
///
/// // From the proxy: believed.
/// let proxy: IpAddr = "10.0.0.2".parse()?;
/// assert!(trust.request_scheme(&headers, Some(proxy), false).is_https());
///
/// // From anywhere else: the header is ignored.
/// let client: IpAddr = "203.0.113.5".parse()?;
/// let decision = trust.request_scheme(&headers, Some(client), false);
/// assert!(!decision.is_https());
/// assert_eq!(decision.source(), SchemeSource::NoTrustedProxy);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Rules
///
/// [`ProxyTrust::request_scheme`] applies these in order; the first that
/// applies decides. Every doubt answers "not HTTPS".
///
/// 1. The connection itself is TLS → HTTPS ([`SchemeSource::ConnectionTls`]).
/// 2. The configuration says [`assume_https`](ProxyTrust::assume_https) →
///    HTTPS ([`SchemeSource::AssumedHttps`]).
/// 3. The peer address is unknown, or not trusted → the forwarded headers
///    are not even read → not HTTPS ([`SchemeSource::NoTrustedProxy`]),
///    whatever they say. A connection without an IP address (a Unix
///    socket) is never trusted by address; see
///    [`immediate_peer`](ProxyTrust::immediate_peer).
/// 4. The peer is trusted → the two headers below are read. Each one is
///    *absent*, *usable* (says `http` or `https`) or *unusable*:
///    - any unusable header → not HTTPS ([`SchemeSource::Ambiguous`]);
///    - both usable but saying different things → not HTTPS
///      ([`SchemeSource::Ambiguous`]);
///    - `Forwarded` usable (and `X-Forwarded-Proto` absent or agreeing) →
///      its answer ([`SchemeSource::Forwarded`]);
///    - only `X-Forwarded-Proto` usable → its answer
///      ([`SchemeSource::XForwardedProto`]);
///    - neither present → not HTTPS ([`SchemeSource::NoHeader`]).
///
///    Requiring agreement instead of letting one header win matters
///    because a proxy usually sets only one of them and passes the other
///    through from the client untouched: whichever header won, a client
///    could then send it over plain HTTP. With the agreement rule, as long
///    as the proxy sets one of the two, a header the client added can only
///    make its own request "not HTTPS".
///
/// ## `Forwarded` (RFC 7239)
///
/// Only the **last element of the last `Forwarded` field line** is used.
/// Each proxy appends its element at the end, so the last one was written
/// by the nearest proxy — the trusted peer — while everything before it
/// came from earlier hops or the client and can say anything. A proxy that
/// appends a new field line instead of extending the existing one also
/// ends up last.
///
/// - Elements are separated by commas and pairs by semicolons, except
///   inside quoted strings (`"…"`, with `\` escaping the next character).
///   A quoted string left open makes the header unusable. Empty elements
///   and empty pairs are skipped; spaces around them are trimmed.
/// - Keys are compared ignoring ASCII case and must be HTTP tokens.
/// - The element must contain exactly one `proto`, whose value (a token or
///   a quoted string, unescaped) is `http` or `https`, ignoring ASCII case.
///   No `proto`, two of them, or any other value makes the header unusable.
/// - Other values in the element are checked loosely (no quote in an
///   unquoted value, no space or control character), so that
///   `for=2001:db8::1`, as hand-written proxy configurations produce for
///   IPv6 clients, does not make the element unusable. A malformed pair
///   anywhere in the element makes the header unusable.
///
/// ## `X-Forwarded-Proto`
///
/// The values of all field lines, split at commas and trimmed, must **all
/// agree** (ignoring ASCII case) on `http` or `https`. `https, http`, an
/// unknown value, or a header with no value at all is unusable. The
/// leftmost value is never taken on its own: a proxy that appends instead
/// of overwriting leaves the client's value first.
///
/// ## Limits
///
/// Header values are arbitrary bytes: non-UTF-8 bytes are just bytes that
/// are not `http` or `https`, and parsing never panics. A header whose
/// field lines add up to more than 8 KiB is unusable without being parsed.
/// No other header (`X-Forwarded-Ssl`, `Front-End-Https`,
/// `X-Forwarded-Scheme`, `Host`, …) is read.
///
/// # Deployment (nginx)
///
/// ```text
/// location / {
///     proxy_pass http://127.0.0.1:3000;
///     proxy_set_header X-Forwarded-Proto $scheme;  # overwrite, never append
///     proxy_set_header Forwarded "";               # drop what the client sent
/// }
/// ```
///
/// and `ProxyTrust::cidrs(["127.0.0.1/32"])` in the application, which
/// should listen on loopback or a private network only.
///
/// # Configurations
///
/// The default is [`ProxyTrust::none`]: only the connection's own TLS
/// counts.
///
/// ```
/// use sealed_session::ProxyTrust;
///
/// let direct = ProxyTrust::default();
/// let behind_nginx = ProxyTrust::cidrs(["127.0.0.1/32", "::1/128"])?;
/// let behind_lb = ProxyTrust::cidrs(["10.0.0.0/8"])?;
/// # let _ = (direct, behind_nginx, behind_lb);
/// # Ok::<(), sealed_session::ProxyConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ProxyTrust {
    peers: TrustedPeers,
    assume_https: bool,
}

#[derive(Clone, Debug, Default)]
enum TrustedPeers {
    #[default]
    Nobody,
    Ranges(Box<[IpRange]>),
    AnyPeer,
}

impl ProxyTrust {
    /// Ignores forwarded headers: only a TLS connection is HTTPS. The
    /// default, and the right setting for an application that terminates
    /// TLS itself.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::ProxyTrust;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-forwarded-proto", "https".parse()?);
    /// let trust = ProxyTrust::none();
    /// let loopback = Some("127.0.0.1".parse()?);
    /// assert!(!trust.request_scheme(&headers, loopback, false).is_https());
    /// assert!(trust.request_scheme(&headers, loopback, true).is_https());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts forwarded headers only from peers inside these address
    /// ranges.
    ///
    /// Each entry is a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a single
    /// address (`10.0.0.2`, `::1`); surrounding spaces are ignored. A peer
    /// connecting over IPv6 with an IPv4-mapped address (`::ffff:10.0.0.2`)
    /// is matched as the IPv4 address, and a range written in that form
    /// (`::ffff:10.0.0.0/104`) as the IPv4 range.
    ///
    /// # Errors
    ///
    /// [`ProxyConfigError`] for an entry that is not an address or a range,
    /// a range with bits set after its prefix (`10.0.0.1/8`: write
    /// `10.0.0.0/8` or `10.0.0.1/32`), or an empty list.
    ///
    /// ```
    /// use sealed_session::{ProxyConfigError, ProxyTrust};
    ///
    /// let trust = ProxyTrust::cidrs(["10.0.0.0/8", "fd00::/8"])?;
    /// assert!(trust.trusts_peer("::ffff:10.1.2.3".parse()?));
    /// assert!(!trust.trusts_peer("192.0.2.1".parse()?));
    ///
    /// let err = ProxyTrust::cidrs(["10.0.0.0/33"]).unwrap_err();
    /// assert!(matches!(err, ProxyConfigError::InvalidRange { .. }));
    /// assert!(err.to_string().contains("`10.0.0.0/8`"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cidrs<I>(ranges: I) -> Result<Self, ProxyConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let ranges = ranges
            .into_iter()
            .map(|entry| IpRange::parse(entry.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if ranges.is_empty() {
            return Err(ProxyConfigError::NoRanges);
        }
        Ok(Self {
            peers: TrustedPeers::Ranges(ranges.into_boxed_slice()),
            assume_https: false,
        })
    }

    /// Trusts the forwarded headers of whatever peer connects.
    ///
    /// Only for an application that nothing but the proxy can reach: one
    /// listening on loopback or a Unix socket behind a proxy on the same
    /// host, or in a network only the proxy can enter. **If the
    /// application's port is reachable directly, any client can claim
    /// HTTPS.** Prefer [`cidrs`](Self::cidrs) with the proxy's address.
    ///
    /// A peer without an IP address (`None`) is still not trusted: a
    /// server on a Unix socket should pass the loopback address as the
    /// peer, as the socket is local to the host.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::ProxyTrust;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-forwarded-proto", "https".parse()?);
    /// let trust = ProxyTrust::immediate_peer();
    /// assert!(trust.request_scheme(&headers, Some("127.0.0.1".parse()?), false).is_https());
    /// assert!(!trust.request_scheme(&headers, None, false).is_https());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn immediate_peer() -> Self {
        Self {
            peers: TrustedPeers::AnyPeer,
            assume_https: false,
        }
    }

    /// Treats every request as HTTPS, whatever the headers and the peer.
    ///
    /// For a proxy that only ever serves HTTPS and sets no forwarded
    /// header at all. Nothing is checked per request: this is only true
    /// if the proxy does not also serve plain HTTP to the application, and
    /// the application cannot be reached without the proxy.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::{ProxyTrust, SchemeSource};
    ///
    /// let trust = ProxyTrust::none().assume_https();
    /// let decision = trust.request_scheme(&HeaderMap::new(), None, false);
    /// assert!(decision.is_https());
    /// assert_eq!(decision.source(), SchemeSource::AssumedHttps);
    /// ```
    #[must_use]
    pub fn assume_https(mut self) -> Self {
        self.assume_https = true;
        self
    }

    /// Whether forwarded headers from this peer address are read.
    ///
    /// ```
    /// use sealed_session::ProxyTrust;
    ///
    /// let trust = ProxyTrust::cidrs(["10.0.0.0/8"])?;
    /// assert!(trust.trusts_peer("10.0.0.2".parse()?));
    /// assert!(trust.trusts_peer("::ffff:10.0.0.2".parse()?));
    /// assert!(!trust.trusts_peer("11.0.0.2".parse()?));
    /// assert!(!ProxyTrust::none().trusts_peer("127.0.0.1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trusts_peer(&self, peer: IpAddr) -> bool {
        match &self.peers {
            TrustedPeers::Nobody => false,
            TrustedPeers::AnyPeer => true,
            TrustedPeers::Ranges(ranges) => {
                let peer = peer.to_canonical();
                ranges.iter().any(|range| range.contains(peer))
            }
        }
    }

    /// Decides whether a request is HTTPS, following the
    /// [rules](ProxyTrust#rules): connection TLS, then `assume_https`, then
    /// the forwarded headers of a trusted peer only.
    ///
    /// `peer` is the address of the immediate peer of the connection (the
    /// socket's remote address), never one taken from a header;
    /// `connection_is_tls` says whether that connection is TLS.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::{ProxyTrust, SchemeSource};
    ///
    /// let trust = ProxyTrust::cidrs(["10.0.0.0/8"])?;
    /// let proxy = Some("10.0.0.2".parse()?);
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.append("forwarded", "for=192.0.2.7;proto=https".parse()?);
    /// let decision = trust.request_scheme(&headers, proxy, false);
    /// assert!(decision.is_https());
    /// assert_eq!(decision.source(), SchemeSource::Forwarded);
    ///
    /// // A client put `https` first; the proxy appended `http`.
    /// let mut headers = HeaderMap::new();
    /// headers.append("x-forwarded-proto", "https, http".parse()?);
    /// let decision = trust.request_scheme(&headers, proxy, false);
    /// assert!(!decision.is_https());
    /// assert_eq!(decision.source(), SchemeSource::Ambiguous);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_scheme(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        connection_is_tls: bool,
    ) -> SchemeDecision {
        if connection_is_tls {
            return SchemeDecision::new(true, SchemeSource::ConnectionTls);
        }
        if self.assume_https {
            return SchemeDecision::new(true, SchemeSource::AssumedHttps);
        }
        if !peer.is_some_and(|peer| self.trusts_peer(peer)) {
            return SchemeDecision::new(false, SchemeSource::NoTrustedProxy);
        }
        let forwarded = read_header(headers, &FORWARDED, forwarded_proto);
        let x_forwarded = read_header(headers, &X_FORWARDED_PROTO, x_forwarded_proto);
        match (forwarded, x_forwarded) {
            (Some(Err(Unusable)), _) | (_, Some(Err(Unusable))) => SchemeDecision::AMBIGUOUS,
            (Some(Ok(f)), Some(Ok(x))) if f != x => SchemeDecision::AMBIGUOUS,
            (Some(Ok(proto)), _) => SchemeDecision::new(proto.is_https(), SchemeSource::Forwarded),
            (None, Some(Ok(proto))) => {
                SchemeDecision::new(proto.is_https(), SchemeSource::XForwardedProto)
            }
            (None, None) => SchemeDecision::new(false, SchemeSource::NoHeader),
        }
    }
}

/// The answer of [`ProxyTrust::request_scheme`]: HTTPS or not, and why.
///
/// ```
/// use http::HeaderMap;
/// use sealed_session::{ProxyTrust, SchemeSource};
///
/// let decision = ProxyTrust::none().request_scheme(&HeaderMap::new(), None, true);
/// assert!(decision.is_https());
/// assert_eq!(decision.source(), SchemeSource::ConnectionTls);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SchemeDecision {
    https: bool,
    source: SchemeSource,
}

/// What a [`SchemeDecision`] was based on.
///
/// ```
/// use http::HeaderMap;
/// use sealed_session::{ProxyTrust, SchemeSource};
///
/// let trust = ProxyTrust::cidrs(["10.0.0.0/8"])?;
/// let decision = trust.request_scheme(&HeaderMap::new(), Some("10.0.0.2".parse()?), false);
/// assert_eq!(decision.source(), SchemeSource::NoHeader);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemeSource {
    /// The connection itself is TLS (HTTPS).
    ConnectionTls,
    /// [`ProxyTrust::assume_https`] is configured (HTTPS).
    AssumedHttps,
    /// The trusted proxy's `Forwarded` element (HTTPS if it says
    /// `proto=https`).
    Forwarded,
    /// The trusted proxy's `X-Forwarded-Proto` (HTTPS if it says `https`).
    XForwardedProto,
    /// The peer address is unknown or outside the trusted ranges, so the
    /// forwarded headers were ignored (not HTTPS).
    NoTrustedProxy,
    /// The peer is trusted but sent neither `Forwarded` nor
    /// `X-Forwarded-Proto` (not HTTPS).
    NoHeader,
    /// The forwarded headers conflict, are malformed or too long (not
    /// HTTPS).
    Ambiguous,
}

impl SchemeDecision {
    const AMBIGUOUS: Self = Self::new(false, SchemeSource::Ambiguous);

    const fn new(https: bool, source: SchemeSource) -> Self {
        Self { https, source }
    }

    /// Whether the request is to be treated as HTTPS.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::ProxyTrust;
    ///
    /// let trust = ProxyTrust::none();
    /// assert!(!trust.request_scheme(&HeaderMap::new(), None, false).is_https());
    /// ```
    pub const fn is_https(&self) -> bool {
        self.https
    }

    /// What the decision was based on.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::{ProxyTrust, SchemeSource};
    ///
    /// let decision = ProxyTrust::none().request_scheme(&HeaderMap::new(), None, false);
    /// assert_eq!(decision.source(), SchemeSource::NoTrustedProxy);
    /// ```
    pub const fn source(&self) -> SchemeSource {
        self.source
    }

    /// A message for logs that names the likely fix when a request is not
    /// HTTPS (or confirms why it is). It never contains header values.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sealed_session::ProxyTrust;
    ///
    /// let trust = ProxyTrust::cidrs(["10.0.0.0/8"])?;
    /// let decision = trust.request_scheme(&HeaderMap::new(), Some("10.0.0.2".parse()?), false);
    /// assert!(decision
    ///     .insecure_context_hint()
    ///     .contains("proxy_set_header X-Forwarded-Proto $scheme;"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn insecure_context_hint(&self) -> &'static str {
        match (self.source, self.https) {
            (SchemeSource::ConnectionTls, _) => "the connection itself is TLS: nothing to fix",
            (SchemeSource::AssumedHttps, _) => {
                "ProxyTrust::assume_https() treats every request as HTTPS: make sure the \
                 application is reachable only through a proxy that serves nothing but HTTPS"
            }
            (SchemeSource::Forwarded | SchemeSource::XForwardedProto, true) => {
                "the trusted proxy says the client used HTTPS: nothing to fix"
            }
            (SchemeSource::Forwarded | SchemeSource::XForwardedProto, false) => {
                "the trusted proxy says the client used plain HTTP: redirect HTTP to HTTPS at \
                 the proxy (nginx: `return 301 https://$host$request_uri;` in the port-80 \
                 server) before any session cookie is set, and enable HSTS"
            }
            (SchemeSource::NoTrustedProxy, _) => {
                "forwarded headers were ignored because the peer address is unknown or not a \
                 trusted proxy: configure ProxyTrust::cidrs([...]) with the proxy's address \
                 (what express calls `app.set('trust proxy', ...)`), pass the connection's \
                 remote address as the peer, and have the proxy send the scheme (nginx: \
                 `proxy_set_header X-Forwarded-Proto $scheme;`)"
            }
            (SchemeSource::NoHeader, _) => {
                "the trusted proxy forwarded no X-Forwarded-Proto or Forwarded header: add \
                 `proxy_set_header X-Forwarded-Proto $scheme;` to the nginx location (or use \
                 ProxyTrust::assume_https() if the proxy serves only HTTPS and sets no header)"
            }
            (SchemeSource::Ambiguous, _) => {
                "the forwarded protocol headers conflict, repeat different values, or are \
                 malformed or too long: make the proxy overwrite them instead of appending \
                 (nginx: `proxy_set_header X-Forwarded-Proto $scheme;`, and \
                 `proxy_set_header Forwarded \"\";` unless it sets Forwarded with a proto itself)"
            }
        }
    }
}

/// A trusted-proxy configuration was rejected.
///
/// ```
/// use sealed_session::{ProxyConfigError, ProxyTrust};
///
/// let err = ProxyTrust::cidrs(["10.0.0.1/8"]).unwrap_err();
/// assert!(matches!(err, ProxyConfigError::HostBitsSet { .. }));
/// assert!(err.to_string().contains("`10.0.0.0/8`"));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyConfigError {
    /// An entry is neither an IP address nor a CIDR range with a valid
    /// prefix length.
    InvalidRange {
        /// The rejected entry, as given.
        entry: String,
    },
    /// A range has bits set after its prefix length, so it is unclear
    /// whether the network or the single address was meant.
    HostBitsSet {
        /// The rejected entry, as given.
        entry: String,
        /// The network the prefix length describes.
        network: String,
        /// The single address.
        address: String,
    },
    /// The list of ranges is empty.
    NoRanges,
}

impl fmt::Display for ProxyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRange { entry } => write!(
                f,
                "`{entry}` is not a CIDR range: write ranges like `10.0.0.0/8` or `::1/128`, \
                 or a single address like `10.0.0.2`"
            ),
            Self::HostBitsSet {
                entry,
                network,
                address,
            } => write!(
                f,
                "`{entry}` has bits set after its prefix length: write `{network}` for the \
                 network or `{address}` for the single address"
            ),
            Self::NoRanges => f.write_str(
                "no trusted proxy ranges given: list the proxy's addresses (e.g. `10.0.0.0/8`), \
                 or use ProxyTrust::none() if no proxy is in front of the application",
            ),
        }
    }
}

impl std::error::Error for ProxyConfigError {}

/// An address range, IPv4-mapped IPv6 ranges stored as IPv4.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IpRange {
    V4 { network: u32, prefix: u32 },
    V6 { network: u128, prefix: u32 },
}

impl IpRange {
    fn parse(entry: &str) -> Result<Self, ProxyConfigError> {
        let invalid = || ProxyConfigError::InvalidRange {
            entry: entry.to_owned(),
        };
        let text = entry.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => {
                // `u32::from_str` would also take `+8`.
                if prefix.is_empty()
                    || prefix.len() > 3
                    || !prefix.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(invalid());
                }
                let prefix = prefix.parse::<u32>().map_err(|_| invalid())?;
                (addr, Some(prefix))
            }
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let range = match addr {
            IpAddr::V4(v4) => {
                let prefix = prefix.unwrap_or(32);
                if prefix > 32 {
                    return Err(invalid());
                }
                Self::V4 {
                    network: u32::from(v4),
                    prefix,
                }
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.unwrap_or(128);
                if prefix > 128 {
                    return Err(invalid());
                }
                match (v6.to_ipv4_mapped(), prefix.checked_sub(96)) {
                    (Some(v4), Some(prefix)) => Self::V4 {
                        network: u32::from(v4),
                        prefix,
                    },
                    _ => Self::V6 {
                        network: u128::from(v6),
                        prefix,
                    },
                }
            }
        };
        let network = range.network();
        if network != range {
            return Err(ProxyConfigError::HostBitsSet {
                entry: entry.to_owned(),
                network: network.to_string(),
                address: range.single().to_string(),
            });
        }
        Ok(range)
    }

    /// The range with the bits after the prefix cleared.
    fn network(self) -> Self {
        match self {
            Self::V4 { network, prefix } => Self::V4 {
                network: network & mask_v4(prefix),
                prefix,
            },
            Self::V6 { network, prefix } => Self::V6 {
                network: network & mask_v6(prefix),
                prefix,
            },
        }
    }

    /// The range holding only the first address.
    fn single(self) -> Self {
        match self {
            Self::V4 { network, .. } => Self::V4 {
                network,
                prefix: 32,
            },
            Self::V6 { network, .. } => Self::V6 {
                network,
                prefix: 128,
            },
        }
    }

    /// `peer` must be canonical (IPv4-mapped addresses as IPv4).
    fn contains(self, peer: IpAddr) -> bool {
        match (self, peer) {
            (Self::V4 { network, prefix }, IpAddr::V4(peer)) => {
                u32::from(peer) & mask_v4(prefix) == network
            }
            (Self::V6 { network, prefix }, IpAddr::V6(peer)) => {
                u128::from(peer) & mask_v6(prefix) == network
            }
            _ => false,
        }
    }
}

fn mask_v4(prefix: u32) -> u32 {
    u32::MAX
        .checked_shl(32_u32.saturating_sub(prefix))
        .unwrap_or(0)
}

fn mask_v6(prefix: u32) -> u128 {
    u128::MAX
        .checked_shl(128_u32.saturating_sub(prefix))
        .unwrap_or(0)
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::V4 { network, prefix } => write!(f, "{}/{prefix}", Ipv4Addr::from(network)),
            Self::V6 { network, prefix } => write!(f, "{}/{prefix}", Ipv6Addr::from(network)),
        }
    }
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The protocol a proxy reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Http,
    Https,
}

impl Proto {
    fn parse(value: &[u8]) -> Result<Self, Unusable> {
        if value.eq_ignore_ascii_case(b"https") {
            Ok(Self::Https)
        } else if value.eq_ignore_ascii_case(b"http") {
            Ok(Self::Http)
        } else {
            Err(Unusable)
        }
    }

    fn is_https(self) -> bool {
        self == Self::Https
    }
}

/// A forwarded header is present but gives no trustworthy answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Unusable;

/// `None` if the header is absent; otherwise `parse` over its field lines,
/// unless they are too long.
fn read_header(
    headers: &HeaderMap,
    name: &HeaderName,
    parse: fn(GetAll<'_, HeaderValue>) -> Result<Proto, Unusable>,
) -> Option<Result<Proto, Unusable>> {
    let lines = headers.get_all(name);
    let mut total = 0_usize;
    let mut present = false;
    for line in &lines {
        present = true;
        // One byte per line for the separator, so that many empty lines
        // count too.
        total = total.saturating_add(line.len()).saturating_add(1);
        if total > MAX_FORWARDED_LEN.saturating_add(1) {
            return Some(Err(Unusable));
        }
    }
    present.then(|| parse(lines))
}

/// `X-Forwarded-Proto`: every value of every line must agree.
fn x_forwarded_proto(lines: GetAll<'_, HeaderValue>) -> Result<Proto, Unusable> {
    let mut agreed = None;
    for line in lines {
        for value in line.as_bytes().split(|&b| b == b',') {
            let value = value.trim_ascii();
            if value.is_empty() {
                continue;
            }
            let proto = Proto::parse(value)?;
            match agreed {
                None => agreed = Some(proto),
                Some(seen) if seen == proto => {}
                Some(_) => return Err(Unusable),
            }
        }
    }
    agreed.ok_or(Unusable)
}

/// `Forwarded`: the `proto` of the last element of the last line.
fn forwarded_proto(lines: GetAll<'_, HeaderValue>) -> Result<Proto, Unusable> {
    let line = lines.iter().next_back().ok_or(Unusable)?;
    let mut last = None;
    for element in Unquoted::new(line.as_bytes(), b',') {
        let element = element?.trim_ascii();
        if !element.is_empty() {
            last = Some(element);
        }
    }
    element_proto(last.ok_or(Unusable)?)
}

/// The single `proto` of one `Forwarded` element; every pair must be
/// well-formed.
fn element_proto(element: &[u8]) -> Result<Proto, Unusable> {
    let mut proto = None;
    for pair in Unquoted::new(element, b';') {
        let pair = pair?.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=').ok_or(Unusable)?;
        let key = pair.get(..eq).ok_or(Unusable)?;
        let raw = pair.get(eq.saturating_add(1)..).ok_or(Unusable)?;
        if key.is_empty() || !key.iter().copied().all(is_tchar) {
            return Err(Unusable);
        }
        let value = pair_value(raw)?;
        if key.eq_ignore_ascii_case(b"proto") {
            if proto.is_some() {
                return Err(Unusable);
            }
            proto = Some(Proto::parse(&value)?);
        }
    }
    proto.ok_or(Unusable)
}

/// The value of a pair: a quoted string, unescaped, or a loosely checked
/// token.
fn pair_value(raw: &[u8]) -> Result<Cow<'_, [u8]>, Unusable> {
    match raw.split_first() {
        None => Err(Unusable),
        Some((b'"', rest)) => unquote(rest),
        Some(_) => {
            let loose = |b: u8| b > b' ' && b != 0x7f && b != b'"';
            if raw.iter().copied().all(loose) {
                Ok(Cow::Borrowed(raw))
            } else {
                Err(Unusable)
            }
        }
    }
}

/// The content of a quoted string whose opening quote is already consumed;
/// the closing quote must be the last byte.
fn unquote(rest: &[u8]) -> Result<Cow<'_, [u8]>, Unusable> {
    let (&closing, inner) = rest.split_last().ok_or(Unusable)?;
    if closing != b'"' {
        return Err(Unusable);
    }
    let qdtext = |b: u8| b == b'\t' || (b >= b' ' && b != b'"' && b != b'\\' && b != 0x7f);
    let quotable = |b: u8| b == b'\t' || (b >= b' ' && b != 0x7f);
    if !inner.contains(&b'\\') {
        return if inner.iter().copied().all(qdtext) {
            Ok(Cow::Borrowed(inner))
        } else {
            Err(Unusable)
        };
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(escaped) if quotable(escaped) => out.push(escaped),
                _ => return Err(Unusable),
            }
        } else if qdtext(b) {
            out.push(b);
        } else {
            return Err(Unusable);
        }
    }
    Ok(Cow::Owned(out))
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits at a separator byte outside quoted strings. A quoted string left
/// open yields `Err(Unusable)` as the last item.
struct Unquoted<'a> {
    rest: Option<&'a [u8]>,
    separator: u8,
}

impl<'a> Unquoted<'a> {
    fn new(bytes: &'a [u8], separator: u8) -> Self {
        Self {
            rest: Some(bytes),
            separator,
        }
    }
}

impl<'a> Iterator for Unquoted<'a> {
    type Item = Result<&'a [u8], Unusable>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.rest.take()?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate() {
            if quoted {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    quoted = false;
                }
            } else if b == b'"' {
                quoted = true;
            } else if b == self.separator {
                let part = bytes.get(..i);
                self.rest = bytes.get(i.saturating_add(1)..);
                return Some(part.ok_or(Unusable));
            }
        }
        Some(if quoted { Err(Unusable) } else { Ok(bytes) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(line: &str, separator: u8) -> Vec<Result<&[u8], Unusable>> {
        Unquoted::new(line.as_bytes(), separator).collect()
    }

    #[test]
    fn splitting_respects_quotes_and_escapes() {
        assert_eq!(
            elements(r#"a="x,y", b"#, b','),
            vec![Ok(&br#"a="x,y""#[..]), Ok(&b" b"[..])]
        );
        assert_eq!(
            elements(r#"a="x\",y",b"#, b','),
            vec![Ok(&br#"a="x\",y""#[..]), Ok(&b"b"[..])]
        );
        assert_eq!(
            elements(r#"a,b="open,c"#, b','),
            vec![Ok(&b"a"[..]), Err(Unusable)]
        );
        assert_eq!(elements("", b','), vec![Ok(&b""[..])]);
        assert_eq!(elements("a,", b','), vec![Ok(&b"a"[..]), Ok(&b""[..])]);
    }

    #[test]
    fn element_parsing() {
        let proto = |e: &str| element_proto(e.as_bytes());
        assert_eq!(proto("proto=https"), Ok(Proto::Https));
        assert_eq!(proto("PROTO=HTTP"), Ok(Proto::Http));
        assert_eq!(
            proto(r#"for="[2001:db8::1]:80";proto="https""#),
            Ok(Proto::Https)
        );
        assert_eq!(proto(r#"proto="ht\tps""#), Ok(Proto::Https));
        assert_eq!(proto("for=2001:db8::1;proto=https"), Ok(Proto::Https));
        assert_eq!(proto(";;proto=https;"), Ok(Proto::Https));
        assert_eq!(proto("proto=https;proto=https"), Err(Unusable));
        assert_eq!(proto("for=1.2.3.4"), Err(Unusable));
        assert_eq!(proto("proto=wss"), Err(Unusable));
        assert_eq!(proto("proto="), Err(Unusable));
        assert_eq!(proto("=https"), Err(Unusable));
        assert_eq!(proto("proto"), Err(Unusable));
        assert_eq!(proto(r#"proto="https"x"#), Err(Unusable));
        assert_eq!(proto(r#"proto=ht"tps""#), Err(Unusable));
        assert_eq!(proto(r#"proto="https\"#), Err(Unusable));
        assert_eq!(proto("pro to=https"), Err(Unusable));
        assert_eq!(proto("proto=https;for=a b"), Err(Unusable));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v4(8), 0xff00_0000);
        assert_eq!(mask_v4(32), u32::MAX);
        assert_eq!(mask_v6(0), 0);
        assert_eq!(mask_v6(128), u128::MAX);
        assert_eq!(mask_v6(1), 1 << 127);
    }

    #[test]
    fn range_parsing() {
        let parse = |s: &str| IpRange::parse(s).map(|r| r.to_string());
        assert_eq!(parse("10.0.0.0/8").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(parse(" 10.0.0.2 ").as_deref(), Ok("10.0.0.2/32"));
        assert_eq!(parse("::1").as_deref(), Ok("::1/128"));
        assert_eq!(parse("0.0.0.0/0").as_deref(), Ok("0.0.0.0/0"));
        assert_eq!(parse("::ffff:10.0.0.0/104").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(parse("::ffff:0:0/96").as_deref(), Ok("0.0.0.0/0"));
        assert_eq!(parse("fd00::/8").as_deref(), Ok("fd00::/8"));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "10.0.0/8",
            "::1/129",
            "",
            "x",
        ] {
            assert!(
                matches!(
                    IpRange::parse(bad),
                    Err(ProxyConfigError::InvalidRange { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            IpRange::parse("10.0.0.1/8"),
            Err(ProxyConfigError::HostBitsSet {
                entry: "10.0.0.1/8".into(),
                network: "10.0.0.0/8".into(),
                address: "10.0.0.1/32".into(),
            })
        );
    }
}
