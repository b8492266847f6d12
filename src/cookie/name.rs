//! Cookie names: the token characters, the length limit and the prefixes
//! browsers give meaning to. A leaf the codec, the cookie attributes and
//! the proxy parser share.

use crate::error::ConfigError;
use crate::limits::MAX_NAME_LEN;

/// An HTTP token character (RFC 9110 `tchar`): what cookie names and
/// `Forwarded` parameter names are made of.
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `name` starts with `prefix`, ignoring ASCII case, as browsers
/// compare cookie prefixes (`__Host-`, `__Secure-`, `__Http-`,
/// `__Host-Http-`).
pub(crate) fn has_prefix(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `__Host-` or `__Secure-`: names browsers only accept with `Secure`.
pub(crate) fn requires_secure(name: &str) -> bool {
    has_prefix(name, "__Host-") || has_prefix(name, "__Secure-") || requires_http_only(name)
}

/// `__Http-` or `__Host-Http-`: names that also require `HttpOnly`.
pub(crate) fn requires_http_only(name: &str) -> bool {
    has_prefix(name, "__Http-") || has_prefix(name, "__Host-Http-")
}

pub(crate) fn validate_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::InvalidCookieName("it is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ConfigError::InvalidCookieName(
            "it is longer than 256 bytes",
        ));
    }
    if !name.bytes().all(is_token_char) {
        return Err(ConfigError::InvalidCookieName(
            "it must be an HTTP token: letters, digits and !#$%&'*+-.^_`|~ only",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_ignore_ascii_case_and_never_split_a_character() {
        for name in ["__Host-s", "__host-s", "__HOST-s"] {
            assert!(has_prefix(name, "__Host-") && requires_secure(name));
        }
        assert!(requires_secure("__secure-s") && !requires_http_only("__secure-s"));
        assert!(requires_http_only("__host-http-s") && requires_secure("__Http-s"));
        assert!(!requires_secure("session") && !has_prefix("__Hos", "__Host-"));
        assert!(
            !has_prefix("__Hosté", "__Host-"),
            "a multi-byte character at the cut"
        );
        assert!(b"!#$%&'*+-.^_`|~".iter().all(|b| is_token_char(*b)));
        assert!(!b" \";,=\\()<>@:/[]?{}".iter().any(|b| is_token_char(*b)));
    }
}
