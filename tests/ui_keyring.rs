//! The desktop app with a real OS keyring (gnome-keyring on a private D-Bus session bus): the
//! password given once is remembered in the keyring, the next start scans the saved account
//! without asking for it, and "Forget this account" removes it from the keyring too. Its own test
//! binary: the keyring's bus address and the settings directory are this process's environment.

mod support;

use egui::Role;
use egui_kittest::kittest::Queryable;
use neversent::config::secrets;
use neversent::ui::Screen;
use support::demo_server;
use support::dovecot::{builder, Layout, PASSWORD, USER};
use support::keyring::Keyring;
use support::ui::{app, fill_in_the_test_account, has, has_text, wait_for};

#[test]
fn the_password_is_remembered_in_the_keyring_and_forgotten_with_the_account() {
    let keyring = Keyring::start();
    let home = tempfile::tempdir().expect("tempdir");
    for (var, sub) in
        [("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")]
    {
        std::env::set_var(var, home.path().join(sub));
    }
    let d = demo_server(builder(), Layout::Standard, false);
    let key = format!("{USER}@localhost");

    // First start: the account form, the certificate trusted, "remember" left on.
    let mut h = app();
    fill_in_the_test_account(&mut h, d.imaps_port, USER, PASSWORD);
    h.get_by_role_and_label(Role::Button, "Test connection").click();
    wait_for(&mut h, "the certificate question", |h| has(h, "Certificate not trusted"));
    h.get_by_role_and_label(Role::Button, "Trust this certificate").click();
    wait_for(&mut h, "the connection test", |h| has(h, "The connection works."));
    assert!(secrets::get(&key).expect("keyring").is_none(), "a test saves nothing");
    h.get_by_role_and_label(Role::Button, "Save and scan").click();
    wait_for(&mut h, "the scan over IMAP", |h| has(h, "Backscatter (40)"));
    assert!(!has_text(&h, "could not be remembered"), "there is a keyring");
    // The worker saves the password once the server accepted it.
    let saved = secrets::get(&key).expect("keyring").expect("the password was remembered");
    assert_eq!(saved.expose(), PASSWORD);
    let settings = std::fs::read_to_string(home.path().join("config/neversent/settings.toml"))
        .expect("saved settings");
    assert!(settings.contains("Test server") && !settings.contains(PASSWORD), "{settings}");
    drop(h);

    // Next start: the saved account scans with the keyring's password, no question asked.
    let mut again = app();
    again.get_by_role_and_label(Role::Button, "Scan Test server").click();
    wait_for(&mut again, "the scan with the remembered password", |h| {
        has(h, "Backscatter (40)") || has_text(h, "Enter the password above.")
    });
    assert!(!has_text(&again, "Enter the password above."), "it asked for the password");
    assert_eq!(again.state().screen(), Screen::Review);
    drop(again);

    // Forgetting the account forgets its password.
    let mut third = app();
    third.get_by_role_and_label(Role::Button, "Connect a mailbox").click();
    third.run();
    third.get_by_label("Test server (localhost)").click();
    third.run();
    third.get_by_role_and_label(Role::Button, "Forget this account").click();
    wait_for(&mut third, "the account forgotten", |h| has_text(h, "Forgot the account"));
    // The worker deletes it on its own thread. A lookup that races the deletion (it found the
    // item, then the item was gone) is an error from the Secret Service: look again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match secrets::get(&key) {
            Ok(None) => break,
            still => assert!(
                std::time::Instant::now() < deadline,
                "the password is still in the keyring: {:?}",
                still.map(|s| s.is_some())
            ),
        }
        third.run();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let settings = std::fs::read_to_string(home.path().join("config/neversent/settings.toml"))
        .expect("saved settings");
    assert!(!settings.contains("Test server"), "{settings}");
    drop(keyring);
}
