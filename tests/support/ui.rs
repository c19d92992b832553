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
