//! The desktop app against a real IMAP server (a private Dovecot holding the demo mailbox, with
//! a self-signed certificate): the account form, the untrusted certificate and the explicit
//! choice to trust it, saving the account without its password, no keyring, a scan, a move
//! to Trash and undo. Its own test binary, so its settings directory is its own.

mod support;

use egui::Role;
use egui_kittest::kittest::Queryable;
use neversent::ui::Screen;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::demo_server;
use support::dovecot::{builder, Layout, PASSWORD, USER};
use support::ui::{app, fill_in_the_test_account, has, has_text, type_into, wait_for};

fn isolate() -> PathBuf {
    let root = std::env::temp_dir().join(format!("neversent-ui-imap-{}", std::process::id()));
    for (var, sub) in
        [("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")]
    {
        let dir = root.join(sub);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::env::set_var(var, &dir);
    }
    // No session keyring can be reached: the app must say so and never write the password.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", root.join("no-bus").display()),
    );
    std::env::remove_var("XDG_RUNTIME_DIR");
    root
}

#[test]
fn connect_trust_the_certificate_scan_move_and_undo_over_imap() {
    let root = isolate();
    let d = demo_server(builder(), Layout::Standard, false);
    let mut h = app();
    fill_in_the_test_account(&mut h, d.imaps_port, USER, PASSWORD);

    // The self-signed certificate is not trusted: its fingerprint and an explicit choice.
    h.get_by_role_and_label(Role::Button, "Test connection").click();
    wait_for(&mut h, "the certificate question", |h| has(h, "Certificate not trusted"));
    assert!(has_text(&h, "SHA-256 fingerprint of the certificate localhost presented"));
    h.get_by_role_and_label(Role::Button, "Trust this certificate").click();
    wait_for(&mut h, "the connection test", |h| has(h, "The connection works."));
    assert!(has(&h, "Sent folder: Sent. Trash folder: Trash."));
    assert!(has_text(&h, "You chose to trust the certificate with SHA-256 fingerprint"));

    // Save and scan: the account is saved (with the fingerprint, without the password); there
    // is no keyring here, and the app says so.
    h.get_by_role_and_label(Role::Button, "Save and scan").click();
    wait_for(&mut h, "the scan over IMAP", |h| has(h, "Backscatter (40)"));
    assert_eq!(h.state().screen(), Screen::Review);
    assert!(has_text(&h, "could not be remembered"), "no keyring: the user is told");
    let settings = std::fs::read_to_string(root.join("config/neversent/settings.toml"))
        .expect("saved settings");
    assert!(settings.contains("host = \"localhost\""), "{settings}");
    assert!(settings.contains("trusted_fingerprint"), "{settings}");
    assert!(settings.contains("Test server"), "{settings}");
    assert!(!settings.contains(PASSWORD), "the password is never written to the settings");

    // One click moves the 40 to the server's Trash; undo brings them back.
    let inbox_before = d.contents("INBOX").len();
    h.get_by_role_and_label(Role::Button, "Move 40 backscatter messages to Trash").click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move to Trash").click();
    wait_for(&mut h, "the move over IMAP", |h| has_text(h, "Moved 40 messages to Trash"));
    assert_eq!(d.contents("Trash").len(), 40);
    assert_eq!(d.contents("INBOX").len(), inbox_before - 40);
    h.get_by_role_and_label(Role::Button, "Undo").click();
    wait_for(&mut h, "undo and the rescan", |h| {
        has(h, "Backscatter (40)") && h.state().screen() == Screen::Review && !h.state().is_busy()
    });
    assert_eq!(d.contents("INBOX").len(), inbox_before);
    assert_eq!(d.contents("Trash").len(), 0);

    // The saved account is offered on the welcome screen of the next start.
    let mut again = app();
    // Without a keyring the password was not kept: the app asks for it instead of failing.
    again.get_by_role_and_label(Role::Button, "Scan Test server").click();
    wait_for(&mut again, "the password question", |h| has_text(h, "Enter the password above."));
    assert_eq!(again.state().screen(), Screen::Account);
    assert_eq!(
        again.get_by_role_and_label(Role::TextInput, "Server:").value().as_deref(),
        Some("localhost"),
        "the saved account is in the form"
    );
    type_into(&mut again, Role::PasswordInput, "Password:", PASSWORD);
    again.get_by_role_and_label(Role::Button, "Save and scan").click();
    wait_for(&mut again, "the second scan", |h| has(h, "Backscatter (40)"));

    // The theme is a setting that persists.
    again.get_by_role_and_label(Role::ComboBox, "Theme:").click();
    again.run();
    again.get_by_role_and_label(Role::Button, "Light").click();
    again.run();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(root.join("config/neversent/settings.toml"))
            .unwrap_or_default();
        if text.contains("theme = \"light\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the theme was not saved: {text}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(root);
}
