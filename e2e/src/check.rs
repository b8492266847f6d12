//! Errors, assertions and bounded waits shared by every flow.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Bound for each wait on the browser, an HTTP answer or a log line.
pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// Fails the current flow with a formatted message unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}
pub(crate) use ensure;

/// Polls `check` until it yields a value, or fails after `timeout` with a
/// message naming what was awaited and the last reason.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => "condition not met yet".to_owned(),
            Err(err) => err.to_string(),
        };
        if start.elapsed() > timeout {
            return Err(
                format!("timed out after {timeout:?} waiting for {what} (last: {last})").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
