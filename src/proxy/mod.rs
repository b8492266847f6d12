//! Whether a request is HTTPS, as far as a trusted proxy says: see
//! [`ProxyTrust`], whose documentation holds the rules.

use crate::error::ConfigError;
use std::net::IpAddr;

use http::HeaderMap;

mod cidr;
mod forwarded;

use cidr::IpRange;
use forwarded::Unusable;

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
/// use sealed_session::ProxyTrust;
/// use sealed_session::adapter::SchemeSource;
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
/// # Ok::<(), sealed_session::ConfigError>(())
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
    /// [`ConfigError`] for an entry that is not an address or a range,
    /// a range with bits set after its prefix (`10.0.0.1/8`: write
    /// `10.0.0.0/8` or `10.0.0.1/32`), or an empty list.
    ///
    /// ```
    /// use sealed_session::{ConfigError, ProxyTrust};
    ///
    /// let trust = ProxyTrust::cidrs(["10.0.0.0/8", "fd00::/8"])?;
    /// assert!(trust.trusts_peer("::ffff:10.1.2.3".parse()?));
    /// assert!(!trust.trusts_peer("192.0.2.1".parse()?));
    ///
    /// let err = ProxyTrust::cidrs(["10.0.0.0/33"]).unwrap_err();
    /// assert!(matches!(err, ConfigError::InvalidProxyRange { .. }));
    /// assert!(err.to_string().contains("`10.0.0.0/8`"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cidrs<I>(ranges: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let ranges = ranges
            .into_iter()
            .map(|entry| IpRange::parse(entry.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if ranges.is_empty() {
            return Err(ConfigError::NoProxyRanges);
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
    /// use sealed_session::ProxyTrust;
    /// use sealed_session::adapter::SchemeSource;
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
    /// use sealed_session::ProxyTrust;
    /// use sealed_session::adapter::SchemeSource;
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
        let forwarded = forwarded::forwarded(headers);
        let x_forwarded = forwarded::x_forwarded_proto(headers);
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
/// use sealed_session::ProxyTrust;
/// use sealed_session::adapter::SchemeSource;
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
/// use sealed_session::ProxyTrust;
/// use sealed_session::adapter::SchemeSource;
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
    /// use sealed_session::ProxyTrust;
    /// use sealed_session::adapter::SchemeSource;
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
