//! [`SessionMap`]: express-style `get`/`insert`/`remove` without a type.

use core::fmt;
use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind};

use super::Session;

/// A string-keyed map whose values are serialized one by one, for
/// express-style `get`/`insert`/`remove` without a session type.
///
/// ```
/// use sealed_session::SessionMap;
///
/// let mut map = SessionMap::default();
/// map.insert("user", &"alice")?;
/// map.insert("visits", &3u32)?;
/// assert_eq!(map.get::<String>("user")?, Some("alice".to_owned()));
/// assert_eq!(map.get::<u32>("visits")?, Some(3));
/// assert!(map.remove("user"));
/// assert_eq!(map.get::<String>("user")?, None);
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SessionMap(BTreeMap<String, Vec<u8>>);

impl SessionMap {
    /// The value under `key`, decoded as `V`; an error if it is not a `V`.
    ///
    /// # Errors
    ///
    /// `ErrorKind::PayloadDecode` if the stored value is not a `V`.
    ///
    /// ```
    /// # use sealed_session::{ErrorKind, SessionMap};
    /// let mut map = SessionMap::default();
    /// map.insert("n", &1u8)?;
    /// assert_eq!(map.get::<(u8, u8)>("n").unwrap_err().kind(), ErrorKind::PayloadDecode);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn get<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>, Error> {
        self.0
            .get(key)
            .map(|bytes| crate::envelope::decode_data(bytes).map_err(Error::new))
            .transpose()
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// `ErrorKind::PayloadEncode` if `value` cannot be serialized.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// let mut map = SessionMap::default();
    /// map.insert("theme", &"dark")?;
    /// assert!(map.contains_key("theme"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &V,
    ) -> Result<(), Error> {
        let bytes =
            postcard::to_allocvec(value).map_err(|_| Error::new(ErrorKind::PayloadEncode))?;
        self.0.insert(key.into(), bytes);
        Ok(())
    }

    /// Removes `key`; whether it was present.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(!SessionMap::default().remove("missing"));
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }

    /// Whether `key` is present.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(!SessionMap::default().contains_key("k"));
    /// ```
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Every entry in key order, with its value's encoding (postcard): for
    /// tools that show a map without knowing the types stored in it.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// let mut map = SessionMap::default();
    /// map.insert("visits", &3u32)?;
    /// map.insert("admin", &true)?;
    /// let entries: Vec<_> = map.iter().collect();
    /// assert_eq!(entries, vec![("admin", &[1u8][..]), ("visits", &[3u8][..])]);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Whether the map is empty.
    ///
    /// ```
    /// # use sealed_session::SessionMap;
    /// assert!(SessionMap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SessionMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Session<SessionMap> {
    /// The value under `key`, if the session has one.
    ///
    /// # Errors
    ///
    /// As [`SessionMap::get`].
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.insert("user", &"alice").unwrap();
    /// assert_eq!(session.value::<String>("user").unwrap(), Some("alice".to_owned()));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn value<V: DeserializeOwned>(&mut self, key: &str) -> Result<Option<V>, Error> {
        match self.get() {
            Some(map) => map.get(key),
            None => Ok(None),
        }
    }

    /// Stores `value` under `key`, starting a session if needed.
    ///
    /// # Errors
    ///
    /// As [`SessionMap::insert`].
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// session.insert("visits", &1u32).unwrap();
    /// assert_eq!(session.save().unwrap().set_cookie.len(), 1);
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn insert<V: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &V,
    ) -> Result<(), Error> {
        match self.get_mut() {
            Some(map) => map.insert(key, value),
            None => {
                let mut map = SessionMap::default();
                map.insert(key, value)?;
                self.set(map);
                Ok(())
            }
        }
    }

    /// Removes `key`; whether it was present.
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use sealed_session::{CookieConfig, Key, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager, SessionMap};
    /// # use sealed_session::adapter::Connection;
    /// # let keys = KeyringHandle::new(Keyring::new(KeySpec::new(1, Key::generate())));
    /// # let manager = SessionManager::<SessionMap>::new(SessionConfig::new(CookieConfig::new("s")), keys)?;
    /// let mut session = manager.load(&HeaderMap::new(), Connection::new(None, true));
    /// assert!(!session.remove("user"));
    /// # Ok::<(), sealed_session::ConfigError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        let present = self.get().is_some_and(|map| map.contains_key(key));
        if let (true, Some(map)) = (present, self.get_mut()) {
            map.remove(key);
        }
        present
    }
}
