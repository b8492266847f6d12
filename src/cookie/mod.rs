//! Cookies: the session cookie's attributes, checked once at startup; the
//! `Set-Cookie` values written from them; and the session's cookies read
//! from a request's `Cookie` headers.

mod config;
pub(crate) mod name;
pub(crate) mod request;
mod set_cookie;

pub use config::{CookieConfig, SameSite};
pub use set_cookie::{CookieTooLarge, SetCookie, SetCookieError};
