//! Flow 5: wrk sends GET /dashboard with one session cookie through nginx
//! while the key rotates 2 -> 3 on both instances: no error, no lost
//! session, and every wrk thread ends on a cookie re-sealed under key 3.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::Ctx;
use crate::check::{Result, ensure};
use crate::http::Call;
use crate::keys::{key_id, rotate_with_cli};

pub(super) async fn run(cx: &Ctx) -> Result<()> {
    let env = &cx.env;
    let tls = &env.base;
    let logs = [env.apps[0].log.as_path(), env.apps[1].log.as_path()];
    let seconds = env.wrk_seconds;

    let login = Call::login(format!("{tls}/login"))
        .send(&cx.http.tls)
        .await?;
    let cookie = login.session_cookie().ok_or_else(|| {
        format!(
            "no cookie from the login before the load run: {}",
            login.head()
        )
    })?;
    ensure!(
        key_id(&cookie)? == 2,
        "the load run's cookie is not sealed with key 2"
    );
    let dashboard = Call::get(format!("{tls}/dashboard"))
        .cookie(&cookie)
        .send(&cx.http.tls)
        .await?;
    ensure!(
        dashboard.status == 200,
        "the load cookie does not open /dashboard ({})",
        dashboard.status
    );
    println!(
        "wrk: {seconds}s, 2 threads, 8 connections, GET /dashboard through nginx TLS; rotation 2 -> 3 mid-run"
    );

    let log = std::fs::File::create(&env.wrk_log)?;
    // `timeout` bounds wrk even if this driver is killed before it can.
    let mut wrk = tokio::process::Command::new("timeout")
        .arg((seconds + 30).to_string())
        .args([
            "wrk",
            "-t2",
            "-c8",
            &format!("-d{seconds}s"),
            "--timeout",
            "5s",
        ])
        .arg("--latency")
        .arg("-s")
        .arg(&env.wrk_script)
        .arg(format!("{tls}/dashboard"))
        .env("E2E_COOKIE", &cookie)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("wrk: {err}"))?;
    let started = Instant::now();

    tokio::time::sleep(Duration::from_secs(seconds / 3)).await;
    let keys = rotate_with_cli(&env.cli, &env.key_file, &["add", "--id", "3"], 2, &logs).await?;
    cx.pass(format!(
        "mid-run at {}s: `sealed-session rotate add --id 3` left keys [{keys}], both instances reloaded",
        started.elapsed().as_secs()
    ));
    tokio::time::sleep(Duration::from_secs(seconds / 4)).await;
    let keys = rotate_with_cli(&env.cli, &env.key_file, &["promote", "3"], 3, &logs).await?;
    cx.pass(format!(
        "mid-run at {}s: `sealed-session rotate promote 3` left keys [{keys}], both instances reloaded",
        started.elapsed().as_secs()
    ));

    let status = tokio::time::timeout(Duration::from_secs(seconds + 40), wrk.wait())
        .await
        .map_err(|_| "wrk did not end")??;
    let out = String::from_utf8_lossy(&std::fs::read(&env.wrk_log)?).into_owned();
    print!("{out}");
    ensure!(status.success(), "wrk exited with {status}");

    let summary = out
        .lines()
        .find_map(|l| l.strip_prefix("E2E_WRK "))
        .ok_or("wrk printed no summary")?;
    let fields: HashMap<&str, &str> = summary
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let field = |name: &str| -> Result<&str> {
        fields
            .get(name)
            .copied()
            .ok_or_else(|| format!("wrk summary has no {name}: {summary}").into())
    };
    let count = |name: &str| -> Result<u64> {
        field(name)?
            .parse()
            .map_err(|err| format!("wrk summary {name}: {err}").into())
    };
    let (n, non2xx, lost, resealed) = (
        count("responses")?,
        count("non2xx")?,
        count("lost")?,
        count("resealed")?,
    );
    let errors = count("connect_errors")?
        + count("read_errors")?
        + count("write_errors")?
        + count("timeouts")?;
    ensure!(n > 0, "wrk got no responses");
    ensure!(non2xx == 0, "{non2xx} of {n} responses were not 2xx");
    ensure!(
        lost == 0,
        "{lost} of {n} responses lost the session (401 or no alice)"
    );
    ensure!(errors == 0, "wrk socket errors/timeouts: {errors}");
    ensure!(
        resealed > 0,
        "no response re-sealed the cookie after key 3 was promoted"
    );
    for thread_cookie in out
        .lines()
        .filter_map(|l| l.strip_prefix("E2E_WRK_COOKIE "))
    {
        let id = key_id(thread_cookie.trim())?;
        ensure!(
            id == 3,
            "a wrk thread ended with a cookie under key {id}, expected 3"
        );
    }
    cx.pass(format!(
        "wrk: {n} responses, 0 non-2xx, 0 lost sessions, 0 socket errors, {resealed} re-sealed cookies adopted; \
         every thread ends on key 3"
    ));
    let (rps, p99) = (field("rps")?, field("p99_ms")?);
    cx.pass(format!("wrk: {rps} requests/s, p99 {p99} ms"));
    println!(
        "SUMMARY wrk, {}: {rps} requests/s, p99 {p99} ms, {n} responses in {seconds}s, 0 non-2xx, 0 lost",
        env.example
    );
    Ok(())
}
