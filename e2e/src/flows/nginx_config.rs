//! The rendered deploy config does what deploy/nginx/README.md says:
//! plain HTTP only redirects, HTTPS speaks HTTP/2 with HSTS, only TLS 1.2
//! and 1.3 with AEAD suites, 16 KB Cookie headers pass, and a client's own
//! forwarded headers never reach the app.

use std::io::Read as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Version;
use reqwest::header::{LOCATION, STRICT_TRANSPORT_SECURITY};

use super::Ctx;
use crate::check::{Result, ensure};
use crate::http::{COOKIE, Call};

pub(super) async fn run(cx: &Ctx) -> Result<()> {
    let env = &cx.env;
    let tls = &env.base;

    let from = format!("{}/dashboard?x=1", env.plain);
    let to = format!("{tls}/dashboard?x=1");
    let redirect = Call::get(&from).send(&cx.http.plain).await?;
    ensure!(
        redirect.status == 301,
        "plain http did not answer 301: {}",
        redirect.head()
    );
    ensure!(
        redirect.header(LOCATION) == Some(to.as_str()),
        "plain http does not redirect to https: {}",
        redirect.head()
    );
    ensure!(
        redirect.set_cookies().is_empty(),
        "the http redirect sets a cookie"
    );
    cx.pass(format!("{from} -> 301 to {to}, no cookie"));

    let home = Call::get(format!("{tls}/")).send(&cx.http.tls).await?;
    ensure!(
        home.header(STRICT_TRANSPORT_SECURITY)
            .is_some_and(|v| v.starts_with("max-age=63072000")),
        "no HSTS header: {}",
        home.head()
    );
    ensure!(
        home.version == Version::HTTP_2 && home.status == 200,
        "https / did not answer 200 over HTTP/2: {}",
        home.head()
    );
    cx.pass("https / -> 200 over HTTP/2 with Strict-Transport-Security: max-age=63072000");

    let address = env.tls_address()?;
    for protocol in ["-tls1_3", "-tls1_2"] {
        let (ok, out) = s_client(&address, &["-servername", "localhost", protocol]).await?;
        ensure!(
            ok,
            "TLS handshake with {protocol} failed: {}",
            last_lines(&out, 5)
        );
    }
    cx.pass("TLS 1.3 and TLS 1.2 handshakes accepted");
    for protocol in ["-tls1_1", "-tls1"] {
        // SECLEVEL=0 lets this client offer the old protocol, so a refusal
        // is the server's.
        let (ok, out) = s_client(&address, &[protocol, "-cipher", "DEFAULT:@SECLEVEL=0"]).await?;
        ensure!(
            !ok,
            "TLS handshake with {protocol} succeeded: {}",
            out.lines()
                .filter(|l| l.contains("Protocol") || l.contains("Cipher"))
                .take(2)
                .collect::<Vec<_>>()
                .join(" / ")
        );
        ensure!(
            !out.contains("no protocols available"),
            "this openssl cannot offer {protocol}, so the server's refusal is not shown"
        );
        let lower = out.to_ascii_lowercase();
        ensure!(
            [
                "alert protocol version",
                "unsupported protocol",
                "wrong version number",
                "handshake failure"
            ]
            .iter()
            .any(|reason| lower.contains(reason)),
            "{protocol} failed for another reason: {}",
            last_lines(&out, 3)
        );
    }
    let (ok, _) = s_client(
        &address,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"],
    )
    .await?;
    ensure!(!ok, "a CBC-SHA1 suite was accepted over TLS 1.2");
    cx.pass(
        "TLS 1.1 and TLS 1.0 refused by the server (client offered them at SECLEVEL=0); \
         TLS 1.2 CBC suite ECDHE-ECDSA-AES128-SHA refused",
    );

    // 3 cookies of 4 KB each plus a 4 KB junk session cookie: a 16 KB
    // Cookie header, past nginx's default 8k header buffers.
    let big = junk_value(4000)?;
    let junk = format!("a={big}; b={big}; c={big}; {COOKIE}={big}");
    let answer = Call::get(format!("{tls}/"))
        .header("Cookie", &junk)
        .send(&cx.http.tls)
        .await?;
    ensure!(
        answer.status == 200,
        "a 16 KB Cookie header answered {} through nginx",
        answer.status
    );
    ensure!(
        answer.body.contains("Not logged in"),
        "a junk session cookie was not treated as no session"
    );
    cx.pass(format!(
        "a {}-byte Cookie header passes nginx (200); the app treats the junk {COOKIE} as no session",
        junk.len()
    ));

    // A client's own scheme claims do not survive the proxy.
    let login = Call::login(format!("{tls}/login"))
        .header("X-Forwarded-Proto", "http")
        .header("Forwarded", "proto=http")
        .send(&cx.http.tls)
        .await?;
    ensure!(
        login.version == Version::HTTP_2 && login.status == 303,
        "login with client-sent X-Forwarded-Proto/Forwarded: {}",
        login.head()
    );
    ensure!(
        login
            .set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{COOKIE}="))),
        "no cookie: the client's headers reached the app"
    );
    cx.pass(
        "login with client-sent 'X-Forwarded-Proto: http' and 'Forwarded: proto=http' -> 303 + cookie: \
         nginx overwrote the first and dropped the second",
    );
    Ok(())
}

/// `openssl s_client -connect ADDRESS ARGS...` with no input: whether the
/// handshake succeeded, and everything it printed.
async fn s_client(address: &str, args: &[&str]) -> Result<(bool, String)> {
    let run = tokio::process::Command::new("openssl")
        .args(["s_client", "-connect", address])
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .map_err(|_| format!("openssl s_client {} timed out after 10s", args.join(" ")))?
        .map_err(|err| format!("openssl: {err}"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

/// `len` random base64url characters.
fn junk_value(len: usize) -> Result<String> {
    let mut bytes = vec![0; len * 3 / 4 + 3];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut value = URL_SAFE_NO_PAD.encode(bytes);
    value.truncate(len);
    Ok(value)
}
