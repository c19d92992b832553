//! Driving the real app in egui_kittest: wait for the worker thread, find things by label, type.

use egui::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use neversent::ui::NeverSentApp;
use std::time::{Duration, Instant};

pub type H = Harness<'static, NeverSentApp>;

/// Steps frames (in real time: the worker is a real thread) until `done` holds.
pub fn wait_for(h: &mut H, what: &str, done: impl Fn(&H) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        h.step();
        if done(h) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_ok();
}

pub fn has(h: &H, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

pub fn has_text(h: &H, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

/// Replaces the text of the field with this role and label.
pub fn type_into(h: &mut H, role: Role, label: &str, text: &str) {
    h.get_by_role_and_label(role, label).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.get_by_role_and_label(role, label).type_text(text);
    h.run();
}

/// The app started on the welcome screen, in a window the size the tests use.
pub fn app() -> H {
    let mut h = Harness::builder().with_size([1180.0, 760.0]).build_ui_state(
        |ui, app: &mut NeverSentApp| app.show(ui),
        NeverSentApp::new(neversent::ui::Options::default()),
    );
    h.run();
    h
}

/// From the welcome screen: "Connect a mailbox", provider "Other", and the test server's account
/// (this machine, `port`, the test user and password) named "Test server".
pub fn fill_in_the_test_account(h: &mut H, port: u16, user: &str, password: &str) {
    h.get_by_role_and_label(Role::Button, "Connect a mailbox").click();
    h.run();
    h.get_by_role_and_label(Role::ComboBox, "Provider:").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "Other").click();
    h.run();
    type_into(h, Role::TextInput, "Server:", "localhost");
    type_into(h, Role::TextInput, "Port:", &port.to_string());
    type_into(h, Role::TextInput, "Email address / user name:", user);
    type_into(h, Role::TextInput, "Account name:", "Test server");
    type_into(h, Role::PasswordInput, "Password:", password);
}
