//! A small model of the RFC 6265bis storage rules (name and value size,
//! prefixes, Secure, Path, Domain, SameSite, Partitioned, replacement and
//! deletion), checking that every `Set-Cookie` this library writes is one a
//! conforming browser stores, and that removal cookies remove.

use std::time::{Duration, UNIX_EPOCH};

use sealed_session::{CookieConfig, SameSite};

#[derive(Clone, Debug, PartialEq)]
struct Stored {
    name: String,
    value: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    http_only: bool,
    expired: bool,
}

/// The request origin the response came from.
struct Origin {
    host: &'static str,
    secure: bool,
}

const APP: Origin = Origin {
    host: "app.example.com",
    secure: true,
};

#[derive(Default)]
struct Jar {
    cookies: Vec<Stored>,
}

impl Jar {
    /// Applies one `Set-Cookie`; returns why it was ignored, if it was.
    fn receive(&mut self, origin: &Origin, header: &str) -> Result<(), &'static str> {
        let mut parts = header.split(';');
        let pair = parts.next().ok_or("empty")?;
        let (name, value) = pair.split_once('=').ok_or("no =")?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err("nameless");
        }
        if name.len() + value.len() > 4096 {
            return Err("name and value over 4096 octets");
        }
        let (mut path, mut domain, mut secure, mut http_only) = (None, None, false, false);
        let (mut same_site, mut partitioned, mut expired) = (None, false, false);
        for av in parts {
            let (key, val) = av.split_once('=').unwrap_or((av, ""));
            let (key, val) = (key.trim().to_ascii_lowercase(), val.trim());
            if val.len() > 1024 {
                continue;
            }
            match key.as_str() {
                "path" if val.starts_with('/') => path = Some(val.to_owned()),
                "domain" => domain = Some(val.trim_start_matches('.').to_ascii_lowercase()),
                "secure" => secure = true,
                "httponly" => http_only = true,
                "samesite" => same_site = Some(val.to_ascii_lowercase()),
                "partitioned" => partitioned = true,
                "max-age" => expired = val.parse::<i64>().map_err(|_| "max-age")? <= 0,
                "expires" => expired |= val.contains("1970"),
                _ => {}
            }
        }
        if secure && !origin.secure && origin.host != "localhost" {
            return Err("Secure from an insecure origin");
        }
        let (domain, host_only) = match domain {
            Some(d) if origin.host == d || origin.host.ends_with(&format!(".{d}")) => (d, false),
            Some(_) => return Err("domain does not domain-match the origin"),
            None => (origin.host.to_owned(), true),
        };
        if same_site.as_deref() == Some("none") && !secure {
            return Err("SameSite=None without Secure");
        }
        if partitioned && !secure {
            return Err("Partitioned without Secure");
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("__secure-") && !secure {
            return Err("__Secure- without Secure");
        }
        if lower.starts_with("__host-") && !(secure && host_only && path.as_deref() == Some("/")) {
            return Err("__Host- without Secure, host-only and Path=/");
        }
        let path = path.unwrap_or_else(|| "/".to_owned());
        // A non-secure cookie may not overlay a secure one.
        if !secure
            && self
                .cookies
                .iter()
                .any(|c| c.name == name && c.secure && path.starts_with(&c.path))
        {
            return Err("would overlay a Secure cookie");
        }
        self.cookies.retain(|c| {
            !(c.name == name && c.domain == domain && c.host_only == host_only && c.path == path)
        });
        if !expired {
            self.cookies.push(Stored {
                name: name.to_owned(),
                value: value.to_owned(),
                domain,
                host_only,
                path,
                secure,
                http_only,
                expired,
            });
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<&Stored> {
        self.cookies.iter().find(|c| c.name == name)
    }
}

fn configs() -> Vec<CookieConfig> {
    let mut all = Vec::new();
    for same_site in [SameSite::Strict, SameSite::Lax, SameSite::None] {
        all.push(CookieConfig::new("__Host-s").same_site(same_site));
        all.push(CookieConfig::new("__Host-Http-s").same_site(same_site));
        all.push(
            CookieConfig::new("__Secure-s")
                .domain("example.com")
                .same_site(same_site),
        );
        all.push(CookieConfig::new("plain").path("/app").same_site(same_site));
        all.push(
            CookieConfig::new("__Host-s")
                .same_site(same_site)
                .partitioned(true),
        );
        all.push(
            CookieConfig::new("__Host-s")
                .same_site(same_site)
                .browser_session_only(),
        );
    }
    all
}

#[test]
fn every_valid_configuration_is_stored_and_removed() {
    let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    for config in configs() {
        config.validate().expect("valid configuration");
        let mut jar = Jar::default();
        let set = config
            .set_cookie_at("AQAAAAE", Some(Duration::from_secs(1800)), now)
            .expect("fits");
        let header = set.header().to_str().expect("ascii");
        jar.receive(&APP, header)
            .unwrap_or_else(|why| panic!("{header}: {why}"));
        let stored = jar.get(config.name()).expect("stored");
        assert_eq!(stored.value, "AQAAAAE");
        assert!(stored.secure && stored.http_only, "{header}");
        assert!(
            header.contains("; SameSite="),
            "explicit SameSite: {header}"
        );
        let removal = config.removal(config.name()).expect("valid");
        jar.receive(&APP, removal.to_str().expect("ascii"))
            .expect("removal accepted");
        assert!(jar.get(config.name()).is_none(), "removed by {removal:?}");
    }
}

#[test]
fn removal_with_another_path_leaves_the_cookie() {
    let mut jar = Jar::default();
    let app = CookieConfig::new("plain").path("/app");
    jar.receive(
        &APP,
        app.set_cookie("v", None)
            .expect("fits")
            .header()
            .to_str()
            .expect("ascii"),
    )
    .expect("stored");
    let other = CookieConfig::new("plain").path("/");
    jar.receive(
        &APP,
        other
            .removal("plain")
            .expect("valid")
            .to_str()
            .expect("ascii"),
    )
    .expect("accepted");
    assert_eq!(jar.get("plain").map(|c| c.value.as_str()), Some("v"));
}

#[test]
fn rfc_examples_that_browsers_always_reject() {
    for header in [
        "__Secure-SID=12345; Domain=site.example",
        "__Host-SID=12345",
        "__Host-SID=12345; Secure",
        "__Host-SID=12345; Domain=site.example",
        "__Host-SID=12345; Domain=site.example; Path=/",
        "__Host-SID=12345; Secure; Domain=site.example; Path=/",
    ] {
        let origin = Origin {
            host: "site.example",
            secure: true,
        };
        assert!(Jar::default().receive(&origin, header).is_err(), "{header}");
    }
}

#[test]
fn a_sibling_subdomain_cannot_shadow_a_host_cookie() {
    let mut jar = Jar::default();
    let ours = CookieConfig::new("__Host-s")
        .set_cookie("good", None)
        .expect("fits");
    jar.receive(&APP, ours.header().to_str().expect("ascii"))
        .expect("stored");
    let sibling = Origin {
        host: "evil.example.com",
        secure: true,
    };
    let attack = "__Host-s=evil; Domain=example.com; Path=/; Secure";
    assert!(jar.receive(&sibling, attack).is_err());
    assert_eq!(jar.get("__Host-s").map(|c| c.value.as_str()), Some("good"));
}

#[test]
fn oversized_cookies_would_be_dropped_so_we_refuse_them() {
    let config = CookieConfig::new("__Host-s");
    let largest = "v".repeat(4096 - "__Host-s".len());
    let set = config
        .set_cookie(&largest, None)
        .expect("exactly at the limit");
    Jar::default()
        .receive(&APP, set.header().to_str().expect("ascii"))
        .expect("stored");
    let too_large = format!("{largest}v");
    assert!(config.set_cookie(&too_large, None).is_err());
    let raw = format!("__Host-s={too_large}; Path=/; Secure");
    assert!(
        Jar::default().receive(&APP, &raw).is_err(),
        "the model agrees it would be dropped"
    );
}

#[test]
fn max_age_is_digits_within_400_days_and_expires_is_imf_fixdate() {
    let config = CookieConfig::new("__Host-s");
    for secs in [0u64, 1, 59, 3600, 34_560_000, 34_560_001, u64::MAX / 2] {
        let set = config
            .set_cookie("v", Some(Duration::from_secs(secs)))
            .expect("fits");
        let header = set.header().to_str().expect("ascii").to_owned();
        let max_age = header
            .split("Max-Age=")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .expect("max-age");
        assert!(max_age.bytes().all(|b| b.is_ascii_digit()), "{header}");
        assert!(max_age.parse::<u64>().expect("digits") <= 34_560_000);
        let expires = header.split("Expires=").nth(1).expect("expires");
        let shape = expires.len() == 29
            && expires.ends_with(" GMT")
            && expires.as_bytes()[3] == b','
            && expires[12..16].bytes().all(|b| b.is_ascii_digit());
        assert!(shape, "{expires}");
    }
}
