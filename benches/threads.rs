//! Opens per second of a session cookie as threads are added: how reading
//! sessions scales across cores when every thread shares one
//! `SessionManager` (one keyring handle, one codec, one set of counters),
//! as a server's workers do.
//!
//! Two loops, each thread running one of them flat out:
//!
//! - `session`: what a request that reads its session does through the
//!   public API: `load` on the request's headers, `get`, then `save`, which
//!   writes nothing for an unchanged session;
//! - `codec`: the bare `Codec::open` of a value under one shared
//!   `Keyring`, which separates the codec from the session layer.
//!
//! Each point runs for `SECONDS` (default 3) and is repeated `ROUNDS`
//! times (default 3), the rounds taking turns over the thread counts so
//! that drift on the machine spreads over all of them; the median round is
//! reported. The thread counts are 1, 2, 4, … and
//! `available_parallelism()` itself, or those of `THREADS` (e.g.
//! `THREADS=1,2,4`). A machine with few cores shows only the first points
//! of the curve, and counts past its cores measure time slicing, not
//! scaling.
//!
//! Run with `cargo bench --bench threads`, e.g.
//! `THREADS=1,2,4 SECONDS=5 ROUNDS=5 cargo bench --bench threads`. The
//! tables go to stdout as markdown, progress to stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    unreachable_pub,
    reason = "benchmark code: failing loudly is the right behaviour"
)]

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::adapter::Connection;
use sealed_session::codec::Codec;
use sealed_session::{
    CookieConfig, Key, KeySpec, Keyring, KeyringHandle, Lifetimes, SessionConfig, SessionManager,
    SessionMeta,
};
use serde::{Deserialize, Serialize};

const HTTPS: Connection = Connection::new(None, true);

/// Operations between two reads of the clock.
const CHECK_EVERY: u64 = 1024;

/// Day-long lifetimes: however long the run, an unchanged session is never
/// due for an idle refresh, which would turn reads into seals.
const LIFETIMES: Lifetimes = Lifetimes::new(
    Some(Duration::from_secs(24 * 3600)),
    Some(Duration::from_secs(24 * 3600)),
);

/// A logged-in user, as in the throughput server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Account {
    user: String,
    visits: u64,
}

fn account() -> Account {
    Account {
        user: "alice@example.com".to_owned(),
        visits: 42,
    }
}

struct Settings {
    threads: Vec<usize>,
    duration: Duration,
    rounds: usize,
}

impl Settings {
    /// From the environment under `cargo bench`; one short pass of each
    /// loop when run as a test (`cargo test --benches`), which only checks
    /// that they work.
    fn from_env() -> Self {
        if !std::env::args().any(|arg| arg == "--bench") {
            return Self {
                threads: vec![1],
                duration: Duration::ZERO,
                rounds: 1,
            };
        }
        let threads = match std::env::var("THREADS") {
            Ok(list) => list
                .split(',')
                .map(|n| n.trim().parse().ok().filter(|n| *n > 0))
                .collect::<Option<Vec<usize>>>()
                .unwrap_or_else(|| panic!("THREADS={list}: expected counts like 1,2,4")),
            Err(_) => default_threads(),
        };
        let seconds: f64 = env_or("SECONDS", 3.0);
        let rounds: usize = env_or("ROUNDS", 3);
        assert!(seconds > 0.0, "SECONDS must be positive");
        assert!(rounds > 0, "ROUNDS must be positive");
        Self {
            threads,
            duration: Duration::from_secs_f64(seconds),
            rounds,
        }
    }
}

/// 1, 2, 4, … below the machine's parallelism, then the parallelism itself.
fn default_threads() -> Vec<usize> {
    let max = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts: Vec<usize> = std::iter::successors(Some(1), |n| Some(n * 2))
        .take_while(|n| *n < max)
        .collect();
    counts.push(max);
    counts
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text}: not a number")),
        Err(_) => default,
    }
}

/// Runs `threads` threads at once for `duration`, each repeating the
/// operation `setup` gives it (built on its own thread, before the start).
/// Returns the operations per second of all threads together.
fn rate<S, F>(threads: usize, duration: Duration, setup: &S) -> f64
where
    S: Fn() -> F + Sync,
    F: FnMut(),
{
    let start = Barrier::new(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut op = setup();
                    start.wait();
                    let began = Instant::now();
                    let mut count = 0u64;
                    loop {
                        for _ in 0..CHECK_EVERY {
                            op();
                        }
                        count += CHECK_EVERY;
                        let elapsed = began.elapsed();
                        if elapsed >= duration {
                            return count as f64 / elapsed.as_secs_f64();
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}

/// Measures one loop at every thread count and prints its table.
fn run<S, F>(title: &str, settings: &Settings, setup: &S)
where
    S: Fn() -> F + Sync,
    F: FnMut(),
{
    let mut rates = vec![Vec::with_capacity(settings.rounds); settings.threads.len()];
    for round in 1..=settings.rounds {
        for (i, &threads) in settings.threads.iter().enumerate() {
            eprintln!(
                "{title}: round {round}/{}, threads={threads}",
                settings.rounds
            );
            rates[i].push(rate(threads, settings.duration, setup));
        }
    }
    let medians: Vec<f64> = rates
        .iter_mut()
        .map(|r| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect();

    let base_threads = settings.threads[0];
    let base = medians[0] / base_threads as f64;
    let base_label = match base_threads {
        1 => "1 thread".to_owned(),
        n => format!("{n} threads"),
    };
    println!("\n### {title}\n");
    println!("| threads | opens/s | opens/s per thread | efficiency vs {base_label} |");
    println!("|--:|--:|--:|--:|");
    for (&threads, &total) in settings.threads.iter().zip(&medians) {
        let per_thread = total / threads as f64;
        println!(
            "| {threads} | {total:.0} | {per_thread:.0} | {:.2} |",
            per_thread / base
        );
    }
}

fn main() {
    let settings = Settings::from_env();
    let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    let cookie = CookieConfig::default();
    let name = cookie.name().to_owned();
    let config = SessionConfig::new(cookie).lifetimes(LIFETIMES);
    let manager = SessionManager::<Account>::new(config, keys.clone()).unwrap();

    // A login, once: the cookie every request then carries.
    let mut session = manager.load(&HeaderMap::new(), HTTPS);
    session.set(account());
    let set_cookie = session.save().unwrap().set_cookie;
    let pair = set_cookie[0].to_str().unwrap().split(';').next().unwrap();
    // Each thread builds its own headers, as each request of a server has
    // its own: a clone would share the value's reference count between
    // threads, which no server does.
    let cookie_headers = || {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    };

    let keyring = keys.current();
    let codec = Codec::new(&name).unwrap();
    let meta = SessionMeta::new(LIFETIMES).unwrap();
    let value = codec.seal(&keyring, &meta, &account()).unwrap();

    println!(
        "available_parallelism: {}; {:?} per point; median of {} round(s)",
        std::thread::available_parallelism().map_or(1, usize::from),
        settings.duration,
        settings.rounds
    );

    run(
        "session: load + get + save, one shared SessionManager",
        &settings,
        &|| {
            let manager = manager.clone();
            let headers = cookie_headers();
            move || {
                let mut session = manager.load(black_box(&headers), HTTPS);
                assert_eq!(session.get().map(|a| a.visits), Some(42));
                assert!(session.save().unwrap().set_cookie.is_empty());
            }
        },
    );
    run("codec: Codec::open, one shared Keyring", &settings, &|| {
        let value = value.clone();
        let (codec, keyring) = (&codec, &keyring);
        move || {
            let opened = codec.open::<Account>(keyring, black_box(&value)).unwrap();
            assert_eq!(opened.data.visits, 42);
        }
    });
}
