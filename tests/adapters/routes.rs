//! The test app's routes, written once over the session handle; each
//! adapter module only wires them into its framework. `(status, body)`.

use sealed_session::{SessionError, SessionHandle};
use serde::{Deserialize, Serialize};

/// What the test apps keep in the session.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Account {
    user: String,
    visits: u64,
    blob: Vec<u8>,
}

/// Bigger than any cookie can hold once sealed.
const TOO_BIG: usize = 8 * 1024;

pub(crate) type Session = SessionHandle<Account>;
pub(crate) type Handler = fn(&Session, &str) -> Reply;

/// What a handler answers, in framework-neutral terms.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// A `Cache-Control` the handler sets itself.
    pub(crate) cache_control: Option<&'static str>,
    /// Fail as the framework's error type where it has one (actix-web's
    /// handler `Err`), rather than as a response. axum has none, so its app
    /// answers with the status alone.
    #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
    pub(crate) as_error: bool,
}

fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        body: body.into(),
        cache_control: None,
        as_error: false,
    }
}

/// Method, path (`{user}` is the one parameter) and handler.
pub(crate) const ALL: [(&str, &str, Handler); 10] = [
    ("GET", "/", home),
    ("POST", "/login/{user}", login),
    ("GET", "/dashboard", dashboard),
    ("POST", "/logout", logout),
    ("POST", "/bump", bump),
    ("POST", "/big/unhandled", big_unhandled),
    ("POST", "/big/handled", big_handled),
    ("GET", "/static", untouched),
    ("GET", "/cached", cached),
    ("POST", "/logout/failing", logout_failing),
];

fn untouched(_: &Session, _: &str) -> Reply {
    reply(200, "no session needed")
}

/// Reads the session but chooses its own caching.
fn cached(session: &Session, _: &str) -> Reply {
    let user = session.with(|a| a.map(|a| a.user.clone()));
    Reply {
        cache_control: Some("max-age=60"),
        ..reply(200, user.unwrap_or_default())
    }
}

/// Logs out, then fails.
fn logout_failing(session: &Session, _: &str) -> Reply {
    session.destroy();
    Reply {
        as_error: true,
        ..reply(500, "failed after logout")
    }
}

fn home(session: &Session, _: &str) -> Reply {
    let body = match session.get() {
        Some(a) => format!("user:{} visits:{}", a.user, a.visits),
        None => "anonymous".to_owned(),
    };
    reply(200, body)
}

fn login(session: &Session, user: &str) -> Reply {
    session.regenerate();
    session.set(Account {
        user: user.to_owned(),
        ..Account::default()
    });
    reply(200, "ok")
}

fn dashboard(session: &Session, _: &str) -> Reply {
    match session.get() {
        Some(a) => reply(200, format!("dashboard:{}", a.user)),
        None => reply(401, "login first"),
    }
}

fn logout(session: &Session, _: &str) -> Reply {
    session.destroy();
    reply(200, "bye")
}

fn bump(session: &Session, _: &str) -> Reply {
    let visits = session.update(|a| {
        a.visits += 1;
        a.visits
    });
    match visits {
        Some(visits) => reply(200, visits.to_string()),
        None => reply(401, ""),
    }
}

fn oversized(account: &mut Account) {
    account.blob = vec![0x5a; TOO_BIG];
}

fn big_unhandled(session: &Session, _: &str) -> Reply {
    session.update(oversized);
    reply(200, "should never be seen")
}

fn big_handled(session: &Session, _: &str) -> Reply {
    session.update(oversized);
    match session.save() {
        Err(SessionError::TooLarge(_)) => {
            session.update(|a| a.blob.clear());
            reply(413, "too large: handled")
        }
        other => reply(200, format!("unexpected: {other:?}")),
    }
}
