//! Drives the login example behind nginx with TLS: a real headless
//! Chromium (WebDriver), HTTP clients for exact requests, openssl for TLS
//! handshakes and wrk for load. `scripts/e2e.sh` sets everything up and
//! runs this once per example; every assertion lives here.
//!
//! ```text
//! e2e-driver run              # every flow, in order
//! e2e-driver run login split  # only those, in the given order
//! e2e-driver list             # the flows
//! e2e-driver key-id VALUE     # the key id that sealed a cookie value
//! ```
//!
//! Settings come from `E2E_*` environment variables (see `env.rs`). Each
//! assertion that holds prints a `PASS [<flow>] ...` line; the first one
//! that fails prints `FAIL [<flow>] ...` and ends the program with exit
//! code 1.

mod browser;
mod check;
mod env;
mod flows;
mod http;
mod keys;
mod logs;

use check::Result;
use flows::{ALL, Ctx, Flow};

const USAGE: &str = "usage: e2e-driver run [FLOW...] | list | key-id COOKIE_VALUE";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]).await,
        Some("list") => {
            for flow in &ALL {
                println!("{:<12} [{}] {}", flow.name, flow.label, flow.about);
            }
            0
        }
        Some("key-id") if args.len() == 2 => match keys::key_id(&args[1]) {
            Ok(id) => {
                println!("{id}");
                0
            }
            Err(err) => {
                eprintln!("FAIL: {err}");
                1
            }
        },
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

/// The named flows in the given order, or every flow.
fn select(names: &[String]) -> Result<Vec<&'static Flow>> {
    if names.is_empty() {
        return Ok(ALL.iter().collect());
    }
    names
        .iter()
        .map(|name| {
            ALL.iter()
                .find(|flow| flow.name == name)
                .ok_or_else(|| format!("no flow named {name:?} (see e2e-driver list)").into())
        })
        .collect()
}

async fn run(names: &[String]) -> i32 {
    let flows = match select(names) {
        Ok(flows) => flows,
        Err(err) => {
            eprintln!("{err}\n{USAGE}");
            return 2;
        }
    };
    let mut cx = match env::Env::from_env().and_then(Ctx::new) {
        Ok(cx) => cx,
        Err(err) => {
            eprintln!("FAIL: {err}");
            return 1;
        }
    };
    let mut code = 0;
    for flow in flows {
        if let Err(err) = cx.run(flow).await {
            eprintln!("FAIL [{}] {err}", flow.label);
            code = 1;
            break;
        }
    }
    cx.close_browser().await;
    println!("e2e-driver: {} passed", cx.passes());
    code
}
