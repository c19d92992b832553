//! Settings: saved accounts (never their secrets), window size and theme, as TOML in the
//! directories-crate config dir (XDG_CONFIG_HOME on Linux). Secrets live in the OS keyring
//! (see [`secrets`]).

pub mod secrets;

use crate::mailstore::imap::{Credentials, ImapConfig, Security};
use crate::mailstore::RoleOverrides;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One saved account. No password or token here: those are in the keyring, or come from a
/// command the user chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    /// A command that prints an OAuth2 access token (XOAUTH2) instead of a password.
    pub oauth2_command: Option<String>,
    pub ca_cert: Option<PathBuf>,
    /// SHA-256 fingerprint of a certificate the user explicitly chose to trust.
    pub trusted_fingerprint: Option<String>,
    pub roles: RoleOverrides,
    /// Whether the password is kept in the keyring.
    pub remember: bool,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            name: String::new(),
            host: String::new(),
            port: 993,
            security: Security::Implicit,
            user: String::new(),
            oauth2_command: None,
            ca_cert: None,
            trusted_fingerprint: None,
            roles: RoleOverrides::default(),
            remember: true,
        }
    }
}

impl AccountSettings {
    /// The keyring entry's user part: "user@host".
    pub fn keyring_key(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    pub fn imap_config(&self, credentials: Credentials) -> ImapConfig {
        let mut c = ImapConfig::new(&self.host, &self.user, credentials);
        c.port = self.port;
        c.security = self.security;
        c.ca_cert = self.ca_cert.clone();
        c.trusted_fingerprint = self.trusted_fingerprint.clone();
        c.allow_plaintext = self.security == Security::Plain;
        c
    }
}

/// Everything NeverSent remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub accounts: Vec<AccountSettings>,
    pub window_size: Option<[f32; 2]>,
    /// "system", "light" or "dark".
    pub theme: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { accounts: Vec::new(), window_size: None, theme: "system".into() }
    }
}

impl Settings {
    /// The settings file: `$XDG_CONFIG_HOME/neversent/settings.toml` on Linux.
    pub fn path() -> Option<PathBuf> {
        directories::ProjectDirs::from("org", "NeverSent", "NeverSent")
            .map(|d| d.config_dir().join("settings.toml"))
    }

    /// Loads the settings; a missing file is the defaults, a damaged one an error naming it.
    pub fn load() -> Result<Settings, String> {
        let Some(path) = Settings::path() else { return Ok(Settings::default()) };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| format!("the settings file is damaged ({e}): {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(format!("cannot read the settings ({e}): {}", path.display())),
        }
    }

    pub fn save(&self) -> Result<(), String> {
        let path = Settings::path().ok_or("no configuration directory on this system")?;
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{e}: {}", dir.display()))?;
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("{e}: {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{e}: {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_without_secrets() {
        let s = Settings {
            accounts: vec![AccountSettings {
                name: "Work".into(),
                host: "imap.example.org".into(),
                user: "alex@example.org".into(),
                ..Default::default()
            }],
            window_size: Some([900.0, 600.0]),
            theme: "dark".into(),
        };
        let text = toml::to_string_pretty(&s).expect("toml");
        assert!(!text.to_lowercase().contains("password"));
        let back: Settings = toml::from_str(&text).expect("parse");
        assert_eq!(back, s);
        // Old or partial files still load.
        let partial: Settings = toml::from_str("theme = \"light\"").expect("partial");
        assert_eq!(partial.theme, "light");
        assert!(partial.accounts.is_empty());
    }
}
