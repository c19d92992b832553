//! Passwords in a real OS keyring (gnome-keyring's Secret Service on a private D-Bus session
//! bus): saved, read, replaced and forgotten; never written in plain text; and the command line's
//! `--account NAME` signing in to a real Dovecot with the password the keyring holds.
//!
//! One test: the keyring's bus address is this process's environment.

mod support;

use neversent::config::{secrets, AccountSettings, Settings};
use neversent::mailstore::imap::{Secret, Security};
use serde_json::Value;
use std::process::Command;
use support::demo_server;
use support::dovecot::{builder, Dovecot, Layout, PASSWORD, USER};
use support::keyring::{Keyring, KEYRING_PASSWORD};

/// Runs the real binary with `args`, the test keyring's bus and settings in `home`, and no
/// password in the environment; returns (exit code, stdout, stderr).
fn cli(keyring: &Keyring, home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neversent"))
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.bus)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("NEVERSENT_PASSWORD")
        .output()
        .expect("run neversent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn saved_account(d: &Dovecot) -> AccountSettings {
    AccountSettings {
        name: "Test server".into(),
        host: "localhost".into(),
        port: d.imaps_port,
        security: Security::Implicit,
        user: USER.into(),
        ca_cert: Some(d.cert_path()),
        ..AccountSettings::default()
    }
}

#[test]
fn passwords_live_in_the_real_keyring_and_the_cli_signs_in_with_them() {
    let keyring = Keyring::start();
    let home = tempfile::tempdir().expect("tempdir");
    std::env::set_var("XDG_CONFIG_HOME", home.path().join("config"));
    std::env::set_var("XDG_CACHE_HOME", home.path().join("cache"));

    // Saved, read back, replaced, forgotten.
    let key = "alex@mail.example.org";
    let first = "correct horse battery staple 1";
    let second = "Tr0ub4dor&3-second-password";
    assert!(secrets::get(key).expect("lookup").is_none());
    secrets::set(key, &Secret::new(first)).expect("save");
    assert_eq!(secrets::get(key).expect("lookup").expect("saved").expose(), first);
    secrets::set(key, &Secret::new(second)).expect("replace");
    assert_eq!(secrets::get(key).expect("lookup").expect("saved").expose(), second);
    // Another account's entry is another entry.
    assert!(secrets::get("alex@other.example.org").expect("lookup").is_none());
    // On disk the keyring is encrypted: neither password, nor the keyring's own, in clear.
    let disk = keyring.files_on_disk();
    assert!(!disk.is_empty(), "gnome-keyring wrote its keyring to {:?}", keyring.keyrings());
    for secret in [first, second, KEYRING_PASSWORD] {
        assert!(
            !disk.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret:?} is on disk in plain text"
        );
    }
    secrets::delete(key).expect("forget");
    assert!(secrets::get(key).expect("lookup").is_none());
    secrets::delete(key).expect("forgetting what is not there is no error");

    // The command line: an account saved in the app, its password only in the keyring.
    let d = demo_server(builder(), Layout::Standard, false);
    let account = saved_account(&d);
    Settings { accounts: vec![account.clone()], ..Settings::default() }.save().expect("save");
    secrets::set(&account.keyring_key(), &Secret::new(PASSWORD)).expect("save the password");
    let (code, out, err) =
        cli(&keyring, home.path(), &["scan", "--account", "Test server", "--json"]);
    assert_eq!(code, 0, "{err}");
    let scan: Value = serde_json::from_str(out.trim()).expect("scan JSON");
    assert_eq!(scan["mailbox"], "INBOX");
    assert_eq!(scan["scanned"], d.contents("INBOX").len());
    let items = scan["items"].as_array().expect("items");
    assert!(items.iter().any(|i| i["verdict"] == "backscatter"), "{out}");
    // Nothing the app wrote holds the password.
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()),
            "the password is in {}",
            entry.display()
        );
    }

    // A wrong password in the keyring: the server's refusal, and the password not printed.
    let wrong = "not-the-password-9f3";
    secrets::set(&account.keyring_key(), &Secret::new(wrong)).expect("save");
    let (code, _, err) = cli(&keyring, home.path(), &["scan", "--account", "Test server"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused the password"), "{err}");
    assert!(!err.contains(wrong), "the password must not be printed: {err}");

    // Forgotten: the command line says what to do instead.
    secrets::delete(&account.keyring_key()).expect("forget");
    let (code, _, err) = cli(&keyring, home.path(), &["scan", "--account", "Test server"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no password saved for account \"Test server\""), "{err}");
    let (code, _, err) = cli(&keyring, home.path(), &["scan", "--account", "Nobody"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no saved account named \"Nobody\""), "{err}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
