//! Flash messages: one-shot notices that survive exactly one redirect.

use serde::{Deserialize, Serialize};

/// How important a [`FlashMessage`] is; templates usually style by it.
///
/// Sealed as its index (`Debug` = 0 … `Error` = 4).
///
/// ```
/// use sealed_session::flash::Level;
/// assert!(Level::Error > Level::Info);
/// assert_eq!(Level::Warning.as_str(), "warning");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Diagnostics for developers.
    Debug,
    /// Something happened ("logged out").
    Info,
    /// An action succeeded ("profile saved").
    Success,
    /// Attention needed.
    Warning,
    /// An action failed ("wrong password").
    Error,
}

impl Level {
    /// The level's name in lower case, for CSS classes and logs.
    ///
    /// ```
    /// # use sealed_session::flash::Level;
    /// assert_eq!(Level::Success.as_str(), "success");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A message pushed on one request and read (and cleared) by the next one
/// that asks for it: Rails' `flash`, connect-flash, axum-messages.
///
/// Messages are sealed in the session cookie, so they count towards its
/// size; keep them short. Pushing one on a request without a session starts
/// an anonymous session (a cookie holding only the message); reading them
/// back clears them, and a session left with nothing in it is removed.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::COOKIE};
/// use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager};
/// use sealed_session::adapter::Connection;
/// use sealed_session::flash::{FlashMessage, Level};
///
/// let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
/// let manager = SessionManager::<u64>::new(SessionConfig::new(CookieConfig::new("__Host-s")), keys)?;
///
/// // POST /login with a wrong password: no user, one message, one cookie.
/// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
/// session.push_flash(Level::Error, "Wrong user name or password.");
/// let set_cookie = session.save()?.set_cookie;
/// let pair = set_cookie[0].to_str()?.split(';').next().unwrap().to_owned();
///
/// // GET /login after the redirect: the message once, then the cookie goes.
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_str(&pair)?);
/// let mut session = manager.load(&headers, Connection::new(None, true));
/// let messages = session.take_flash();
/// assert_eq!(messages, vec![FlashMessage::new(Level::Error, "Wrong user name or password.")]);
/// assert_eq!(session.get(), None, "still nobody logged in");
/// let removal = session.save()?.set_cookie;
/// assert!(removal[0].to_str()?.contains("Max-Age=0"), "nothing left to keep");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashMessage {
    /// The message's level.
    pub level: Level,
    /// The text, shown to the user as is (escape it in templates).
    pub text: String,
}

impl FlashMessage {
    /// A message.
    ///
    /// ```
    /// # use sealed_session::flash::{FlashMessage, Level};
    /// let m = FlashMessage::new(Level::Info, "You are logged out.");
    /// assert_eq!(m.level, Level::Info);
    /// ```
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Self {
            level,
            text: text.into(),
        }
    }
}
