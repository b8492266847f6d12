//! Flow 3: a client that reaches an app directly cannot claim HTTPS with
//! forwarded headers, because its address is not a trusted proxy; the app
//! logs why it ignored them. The contrast shows why only nginx may reach
//! the app port: a peer inside `TRUSTED_PROXIES` is believed.

use reqwest::Version;

use super::Ctx;
use crate::check::{Result, ensure};
use crate::http::{Answer, COOKIE, Call};
use crate::logs;

fn refused(answer: &Answer) -> bool {
    answer.version == Version::HTTP_11 && answer.status == 500 && answer.set_cookies().is_empty()
}

pub(super) async fn run(cx: &Ctx) -> Result<()> {
    let env = &cx.env;
    let url = &env.untrusted_url;
    let login = format!("{url}/login");

    let answer = Call::login(&login)
        .header("X-Forwarded-Proto", "https")
        .send(&cx.http.plain)
        .await?;
    ensure!(
        answer.status_line() == "HTTP/1.1 500",
        "spoofed login answered: {}",
        answer.head()
    );
    ensure!(
        answer.set_cookies().is_empty(),
        "spoofed X-Forwarded-Proto got a cookie: {}",
        answer.head()
    );
    cx.pass(format!(
        "login at {login} (its form page first) with 'X-Forwarded-Proto: https' over plain HTTP from 127.0.0.1 \
         (not in TRUSTED_PROXIES={}) -> 500, no Set-Cookie",
        env.untrusted_proxies
    ));

    let answer = Call::login(&login)
        .header("Forwarded", "for=192.0.2.1;proto=https")
        .send(&cx.http.plain)
        .await?;
    ensure!(refused(&answer), "spoofed Forwarded: {}", answer.head());
    cx.pass("same with 'Forwarded: for=192.0.2.1;proto=https' -> 500, no Set-Cookie");

    let untrusted = &env.untrusted;
    logs::wait_for_line(&untrusted.log, "the untrusted-peer diagnostic", |l| {
        l.contains(
            "forwarded headers were ignored because the peer address is unknown or not a trusted proxy",
        )
        .then_some(())
    })
    .await?;
    let text = logs::text(&untrusted.log)?;
    ensure!(
        text.lines().any(|l| l
            .find("WARN")
            .is_some_and(|at| l[at..].contains("NoTrustedProxy"))),
        "no WARN with source NoTrustedProxy in {}",
        untrusted.log.display()
    );
    cx.pass(format!(
        "{} logged the NoTrustedProxy diagnostic (headers ignored: peer not a trusted proxy)",
        untrusted.label
    ));

    // What it does not prove: a peer inside TRUSTED_PROXIES is believed.
    // That is why the apps listen on loopback only, where nginx is the only
    // client that should be.
    let answer = Call::login(format!("{}/login", env.app_a_url))
        .header("X-Forwarded-Proto", "https")
        .send(&cx.http.plain)
        .await?;
    ensure!(
        answer.status_line() == "HTTP/1.1 303"
            && answer
                .set_cookies()
                .iter()
                .any(|c| c.starts_with(&format!("{COOKIE}="))),
        "the trusted-peer contrast did not log in: {}",
        answer.head()
    );
    cx.pass(format!(
        "contrast: the same request to {} (TRUSTED_PROXIES={}) -> 303 + cookie; a trusted peer is believed, \
         so only nginx may reach the app port",
        env.apps[0].label, env.trusted_proxies
    ));
    Ok(())
}
