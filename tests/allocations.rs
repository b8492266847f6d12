//! Heap allocations made by sealing and opening, and by the session layer
//! per request, counted per thread so that tests running in parallel do
//! not disturb each other.
//!
//! The counting allocator comes from `allocation-counter` because the
//! package forbids `unsafe` code, which a `GlobalAlloc` impl needs. Its
//! `realloc` goes through `alloc`, so a buffer that regrows counts as one
//! more allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code"
)]

use allocation_counter::measure;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::adapter::Connection;
use sealed_session::codec::Codec;
use sealed_session::{
    CookieConfig, ErrorKind, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig,
    SessionManager, SessionMeta, Suite,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// About 256 bytes of session whose deserialization allocates nothing, so
/// every allocation counted below belongs to the codec.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Session {
    user_id: u64,
    tenant: u32,
    flags: u16,
    csrf: [u8; 16],
    grants: [[u8; 32]; 7],
}

fn session() -> Session {
    Session {
        user_id: 0x0123_4567_89ab_cdef,
        tenant: 4242,
        flags: 0b1011,
        csrf: [0x5a; 16],
        grants: core::array::from_fn(|i| [i as u8; 32]),
    }
}

fn keyring(id: u32, suite: Suite) -> Keyring {
    Keyring::new(KeySpec::new(id, Key::generate()).suite(suite))
}

#[test]
fn the_counter_counts() {
    let info = measure(|| drop(std::hint::black_box(Box::new(1u8))));
    assert_eq!(
        info.count_total, 1,
        "the counting allocator is not installed"
    );
}

#[test]
fn the_data_type_allocates_nothing_of_its_own() {
    let data = session();
    let bytes = postcard::to_allocvec(&data).unwrap();
    assert!((240..=272).contains(&bytes.len()), "{} bytes", bytes.len());
    let mut decoded = None;
    let info = measure(|| decoded = Some(postcard::from_bytes::<Session>(&bytes).unwrap()));
    assert_eq!(decoded, Some(data));
    assert_eq!(info.count_total, 0);
}

#[test]
fn round_trip_makes_at_most_three_allocations() {
    for suite in Suite::ALL {
        let keyring = keyring(1, suite);
        let codec = Codec::new("s").unwrap();
        let meta = SessionMeta::new(Lifetimes::default()).unwrap();
        let data = session();
        // Warm up: sets the codec's size hint and seeds this thread's RNG.
        let value = codec.seal(&keyring, &meta, &data).unwrap();
        assert_eq!(codec.open::<Session>(&keyring, &value).unwrap().data, data);

        let mut opened = None;
        let info = measure(|| {
            let value = codec.seal(&keyring, &meta, &data).unwrap();
            opened = Some(codec.open::<Session>(&keyring, &value).unwrap());
        });
        assert_eq!(opened.map(|o| o.data).as_ref(), Some(&data));
        // Seal: the sealed buffer and the base64 string; open: the decoded
        // buffer.
        eprintln!(
            "{suite}: {} allocations, {} bytes",
            info.count_total, info.bytes_total
        );
        assert!(
            info.count_total <= 3,
            "{suite}: {} allocations in a round trip",
            info.count_total
        );
        assert_eq!(
            info.count_current, 0,
            "{suite}: leaked across the round trip"
        );
    }
}

/// Opens `value` while counting, and returns the error kind and the count.
fn open_error(codec: &Codec, keyring: &Keyring, value: &str) -> (ErrorKind, u64) {
    let mut kind = None;
    let info = measure(|| {
        kind = Some(codec.open::<Session>(keyring, value).unwrap_err().kind());
    });
    (kind.unwrap(), info.count_total)
}

#[test]
fn oversized_value_is_rejected_without_allocating() {
    let keyring = keyring(1, Suite::default());
    let codec = Codec::new("s").unwrap();
    let value = "A".repeat(1 << 20);
    assert_eq!(
        open_error(&codec, &keyring, &value),
        (ErrorKind::TooLarge, 0)
    );
}

#[test]
fn unknown_key_is_rejected_without_allocating() {
    let codec = Codec::new("s").unwrap();
    let meta = SessionMeta::new(Lifetimes::default()).unwrap();
    let value = codec
        .seal(&keyring(1, Suite::default()), &meta, &session())
        .unwrap();
    let other = keyring(2, Suite::default());
    assert_eq!(
        open_error(&codec, &other, &value),
        (ErrorKind::UnknownKey, 0)
    );
}

#[test]
fn malformed_value_is_rejected_without_allocating() {
    let keyring = keyring(1, Suite::default());
    let codec = Codec::new("s").unwrap();
    let value = "!".repeat(60);
    assert_eq!(
        open_error(&codec, &keyring, &value),
        (ErrorKind::Malformed, 0)
    );
}

/// A manager and the `Cookie` header of a session holding `data` it
/// sealed, after one warm-up read on this thread (which builds the
/// thread's copy of the manager's state and seeds its random generator).
fn session_layer<T: Serialize + DeserializeOwned>(data: T) -> (SessionManager<T>, HeaderMap) {
    let keys = KeyringHandle::new(keyring(1, Suite::default()));
    let manager = SessionManager::new(SessionConfig::new(CookieConfig::default()), keys).unwrap();
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set(data);
    let set_cookie = session.save().unwrap().set_cookie;
    let pair = set_cookie[0].to_str().unwrap().split(';').next().unwrap();
    let mut headers = HeaderMap::new();
    let line = format!("theme=dark; {pair}");
    headers.insert(COOKIE, HeaderValue::from_str(&line).unwrap());
    assert!(manager.load(&headers, HTTPS).get().is_some());
    (manager, headers)
}

const HTTPS: Connection = Connection::new(None, true);

/// Allocations of one request through the session layer (load, `handle`,
/// save), and how many `Set-Cookie` values it answered with.
fn request_allocations<T: Serialize + DeserializeOwned>(
    (manager, headers): &(SessionManager<T>, HeaderMap),
    handle: impl FnOnce(&mut sealed_session::adapter::Session<T>),
) -> (allocation_counter::AllocationInfo, usize) {
    let mut set_cookies = 0;
    let info = measure(|| {
        let mut session = manager.load(headers, HTTPS);
        handle(&mut session);
        set_cookies = session.save().unwrap().set_cookie.len();
    });
    (info, set_cookies)
}

#[test]
fn a_request_that_never_touches_its_session_allocates_nothing() {
    let (info, set_cookies) = request_allocations(&session_layer(session()), |_| {});
    assert_eq!((info.count_total, set_cookies), (0, 0), "{info:?}");
}

#[test]
fn reading_a_session_allocates_nothing() {
    let (info, set_cookies) = request_allocations(&session_layer(session()), |request| {
        assert_eq!(request.get(), Some(&session()));
    });
    assert_eq!((info.count_total, set_cookies), (0, 0), "{info:?}");
}

#[test]
fn a_session_too_large_for_the_stack_opens_in_one_allocation() {
    let layer = session_layer::<[Session; 5]>(core::array::from_fn(|_| session()));
    let cookie = layer.1[COOKIE].len();
    assert!(cookie > 1400, "{cookie} characters");
    let (info, _) = request_allocations(&layer, |large| assert!(large.get().is_some()));
    assert_eq!(info.count_total, 1, "{info:?}");
}

#[test]
fn writing_a_session_allocates_the_sealed_value_and_its_header() {
    let (info, set_cookies) = request_allocations(&session_layer(session()), |session| {
        session.get_mut().unwrap().tenant += 1;
    });
    assert_eq!(set_cookies, 1);
    eprintln!(
        "write: {} allocations, {} bytes",
        info.count_total, info.bytes_total
    );
    // The sealed plaintext, the base64 value, the `Set-Cookie` text, the
    // header's shared buffer and the list of values.
    assert!(info.count_total <= 5, "{info:?}");
}

/// Polls a future that must be ready at once.
#[cfg(feature = "tower")]
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future is not ready"),
    }
}

/// Allocations of one request through the tower middleware around a
/// handler that does `touch` with the session, minus those of the same
/// request without the middleware.
#[cfg(feature = "tower")]
fn tower_request_allocations(touch: fn(&sealed_session::SessionHandle<Session>)) -> u64 {
    use sealed_session::SessionHandle;
    use sealed_session::tower::SessionLayer;
    use tower::{Layer as _, Service as _};

    let (manager, headers) = session_layer(session());
    let handler = move |request: http::Request<()>| {
        if let Some(session) = request.extensions().get::<SessionHandle<Session>>() {
            touch(session);
        }
        // As every real response, it has headers already.
        let mut response = http::Response::new(());
        let plain = HeaderValue::from_static("text/plain");
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, plain);
        std::future::ready(Ok::<_, std::convert::Infallible>(response))
    };
    let mut bare = tower::service_fn(handler);
    let mut layered = SessionLayer::new(manager)
        .direct_tls(true)
        .layer(tower::service_fn(handler));
    // As axum's router does (original URI, matched path), something is in
    // the extensions already: the map exists.
    let request = || {
        let mut request = http::Request::new(());
        *request.headers_mut() = headers.clone();
        request.extensions_mut().insert(http::Uri::from_static("/"));
        request
    };
    // Warm up both.
    ready(bare.call(request())).unwrap();
    ready(layered.call(request())).unwrap();
    let (bare_request, layered_request) = (request(), request());
    let without = measure(|| drop(ready(bare.call(bare_request)).unwrap()));
    let with = measure(|| drop(ready(layered.call(layered_request)).unwrap()));
    with.count_total.saturating_sub(without.count_total)
}

#[cfg(feature = "tower")]
#[test]
fn the_tower_middleware_allocates_the_handle_and_its_extension() {
    let untouched = tower_request_allocations(|_| {});
    let read = tower_request_allocations(|session| assert!(session.with(|data| data.is_some())));
    let write = tower_request_allocations(|session| {
        session.update(|data| data.tenant += 1);
    });
    eprintln!("tower: untouched {untouched}, read {read}, write {write}");
    // The shared handle, and `http::Extensions` boxing it.
    assert_eq!(untouched, 2);
    // The session opens on the stack.
    assert_eq!(read, untouched);
    // As `writing_a_session_allocates_the_sealed_value_and_its_header`,
    // and the response's header map growing to take the new headers.
    assert!(write <= untouched + 6, "{write}");
}
