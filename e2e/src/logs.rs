//! Reading the app instances' logs, which they write as they go.

use std::path::Path;

use crate::check::{Result, WAIT, wait_for};

pub(crate) fn text(path: &Path) -> Result<String> {
    Ok(String::from_utf8_lossy(&std::fs::read(path)?).into_owned())
}

/// Waits until the log holds a line for which `pick` returns a value.
pub(crate) async fn wait_for_line<T>(
    path: &Path,
    what: &str,
    pick: impl Fn(&str) -> Option<T>,
) -> Result<T> {
    let pick = &pick;
    wait_for(
        &format!("{what} in {}", path.display()),
        WAIT,
        || async move { Ok(text(path)?.lines().find_map(pick)) },
    )
    .await
}
