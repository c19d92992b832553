//! Secrets in the OS keyring (Secret Service, macOS Keychain, Windows Credential Manager).
//! Never in the settings file, the logs or the cache. Without a keyring the app says so and
//! asks each time.

use crate::mailstore::imap::Secret;

const SERVICE: &str = "NeverSent";

fn entry(key: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(SERVICE, key).map_err(|e| describe(&e))
}

fn describe(e: &keyring::Error) -> String {
    format!("the system keyring is not available ({e})")
}

/// The secret saved for `key` ("user@host"), if any.
pub fn get(key: &str) -> Result<Option<Secret>, String> {
    match entry(key)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(describe(&e)),
    }
}

/// Saves the secret for `key`.
pub fn set(key: &str, secret: &Secret) -> Result<(), String> {
    entry(key)?.set_password(secret.expose()).map_err(|e| describe(&e))
}

/// Forgets the secret for `key` (no error if there was none).
pub fn delete(key: &str) -> Result<(), String> {
    match entry(key)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}
