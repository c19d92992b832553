//! Secrets in the OS keyring (Secret Service, macOS Keychain, Windows Credential Manager).
//! Never in the settings file, the logs or the cache. Without a keyring the app says so and
//! asks each time.

use crate::mailstore::imap::Secret;

const SERVICE: &str = "NeverSent";

/// The Secret Service (Linux and the BSDs), through keyring-core and its zbus store directly:
/// the `keyring` crate's `Entry` connects once per process and, if the service was not there
/// then, never tries again. Here a keyring that starts after NeverSent (or a KeePassXC whose
/// database is opened later, or a gnome-keyring that was restarted) is found at the next try:
/// the connection is made when there is none, and dropped when the service fails.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))))]
mod platform {
    pub use keyring_core::{Entry, Error};

    pub fn entry(service: &str, user: &str) -> Result<Entry, Error> {
        if keyring_core::get_default_store().is_none() {
            keyring_core::set_default_store(zbus_secret_service_keyring_store::Store::new()?);
        }
        Entry::new(service, user)
    }

    /// Forgets the connection to the service, so that the next use connects again.
    pub fn disconnect() {
        keyring_core::unset_default_store();
    }
}

/// Elsewhere the platform's own store, through the `keyring` crate.
#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android")))))]
mod platform {
    pub use keyring::{Entry, Error};

    pub fn entry(service: &str, user: &str) -> Result<Entry, Error> {
        Entry::new(service, user)
    }

    pub fn disconnect() {}
}

use platform::Error;

/// Runs `f` on the entry for `key`. When the keyring could not be reached, the connection is
/// dropped so that the next call makes a new one.
fn with_entry<T>(
    key: &str,
    f: impl FnOnce(&platform::Entry) -> Result<T, Error>,
) -> Result<T, Error> {
    let result = platform::entry(SERVICE, key).and_then(|entry| f(&entry));
    if matches!(
        result,
        Err(Error::PlatformFailure(_) | Error::NoStorageAccess(_) | Error::NoDefaultStore)
    ) {
        platform::disconnect();
    }
    result
}

fn describe(e: &Error) -> String {
    format!("the system keyring is not available ({e})")
}

/// The secret saved for `key` ("user@host"), if any.
pub fn get(key: &str) -> Result<Option<Secret>, String> {
    match with_entry(key, |e| e.get_password()) {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(Error::NoEntry) => Ok(None),
        Err(e) => Err(describe(&e)),
    }
}

/// Saves the secret for `key`.
pub fn set(key: &str, secret: &Secret) -> Result<(), String> {
    with_entry(key, |e| e.set_password(secret.expose())).map_err(|e| describe(&e))
}

/// Forgets the secret for `key` (no error if there was none).
pub fn delete(key: &str) -> Result<(), String> {
    match with_entry(key, |e| e.delete_credential()) {
        Ok(()) | Err(Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}
