//! What the two legacy apps (`src/bin/`) share: configuration from the environment and
//! the pages, shaped like the sealed-session login examples' pages so the
//! end-to-end driver reads them the same way.

use std::net::SocketAddr;

use base64::Engine as _;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "wonderland";

/// `BIND` (default 127.0.0.1:3000).
pub fn bind() -> SocketAddr {
    std::env::var("BIND")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)))
}

/// `INSTANCE`, shown on every page.
pub fn instance() -> String {
    std::env::var("INSTANCE").unwrap_or_else(|_| "legacy".to_owned())
}

/// `LEGACY_KEY`: base64 of the 64-byte key, as the apps' `Key::from` takes it.
pub fn key_bytes() -> Vec<u8> {
    let text = std::env::var("LEGACY_KEY").expect("LEGACY_KEY: base64 of 64 bytes");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("LEGACY_KEY is base64");
    assert!(bytes.len() >= 64, "LEGACY_KEY must hold 64 bytes");
    bytes
}

pub fn page(title: &str, body: &str, instance: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}<p><small id=\"instance\">served by {instance}</small></p></body></html>"
    )
}

pub fn home(user: Option<&str>, instance: &str) -> String {
    let body = match user {
        Some(user) => format!(
            "<p id=\"status\">Logged in as <b id=\"user\">{user}</b>.</p><p><a href=\"/dashboard\">Dashboard</a></p>"
        ),
        None => "<p id=\"status\">Not logged in.</p>\
                 <form method=\"post\" action=\"/login\">\
                 <input id=\"username\" name=\"username\"> <input id=\"password\" name=\"password\" type=\"password\"> \
                 <button id=\"login\">Log in</button></form>"
            .to_owned(),
    };
    page("Home", &body, instance)
}

pub fn dashboard(user: &str, instance: &str) -> String {
    page(
        "Dashboard",
        &format!("<p id=\"dashboard\">Dashboard of <b id=\"user\">{user}</b>.</p>"),
        instance,
    )
}

#[derive(serde::Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl Login {
    pub fn ok(&self) -> bool {
        self.username == USER && self.password == PASSWORD
    }
}
