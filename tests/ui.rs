//! The desktop app, driven through egui_kittest by role and label: the real app, its real worker
//! thread, on a real temporary copy of the demo mailbox. No mocks.

mod support;

use egui::Role;
use egui_kittest::kittest::{NodeT as _, Queryable};
use egui_kittest::{Harness, SnapshotOptions};
use neversent::ui::{NeverSentApp, Options, Screen};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::ui::{has, has_text, type_into, wait_for};

/// Settings, cache and data go to temporary directories, never the user's.
fn isolate() {
    static DIRS: OnceLock<PathBuf> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("neversent-ui-test-{}", std::process::id()));
        for (var, sub) in
            [("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")]
        {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).expect("temp dir");
            std::env::set_var(var, &dir);
        }
        std::env::set_var("HOME", &root);
        // The GPU renderer for snapshots wants a private runtime directory.
        let run = root.join("run");
        std::fs::create_dir_all(&run).expect("runtime dir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700));
        }
        std::env::set_var("XDG_RUNTIME_DIR", &run);
        root
    });
}

fn harness(options: Options) -> Harness<'static, NeverSentApp> {
    isolate();
    Harness::builder()
        .with_size([1180.0, 760.0])
        .with_max_steps(64)
        .build_ui_state(|ui, app: &mut NeverSentApp| app.show(ui), NeverSentApp::new(options))
}

/// The one tolerance for every snapshot: a little per-pixel slack for other GPU backends,
/// and very few pixels allowed over it.
fn snapshot(h: &mut Harness<'static, NeverSentApp>, name: &str) {
    // No hover effects or tooltips from where the last click happened.
    h.remove_cursor();
    h.run_ok();
    h.snapshot_options(name, &SnapshotOptions::new().threshold(1.0).max_failed_pixels(8));
}

/// Counts per verdict in the demo's inbox, from its MANIFEST.
struct Manifest {
    backscatter: usize,
    genuine: usize,
    unverified: usize,
    suspicious: usize,
    inbox: usize,
    sent: usize,
    genuine_files: Vec<String>,
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/MANIFEST.tsv"),
    )
    .expect("MANIFEST.tsv");
    let mut m = Manifest {
        backscatter: 0,
        genuine: 0,
        unverified: 0,
        suspicious: 0,
        inbox: 0,
        sent: 0,
        genuine_files: vec![],
    };
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        match (cols[0], cols[3]) {
            ("INBOX", verdict) => {
                m.inbox += 1;
                match verdict {
                    "backscatter" => m.backscatter += 1,
                    "genuine" => {
                        m.genuine += 1;
                        let base = cols[1]
                            .rsplit('/')
                            .next()
                            .unwrap_or("")
                            .split(":2,")
                            .next()
                            .unwrap_or("");
                        m.genuine_files.push(base.to_string());
                    }
                    "unverified" => m.unverified += 1,
                    "suspicious" => m.suspicious += 1,
                    _ => {}
                }
            }
            ("Sent", _) => m.sent += 1,
            _ => {}
        }
    }
    m
}

/// Message files in a Maildir folder (cur/ and new/).
fn files(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for sub in ["cur", "new"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    out.push(name);
                }
            }
        }
    }
    out
}

fn tab_label(name: &str, n: usize) -> String {
    format!("{name} ({n})")
}

#[test]
fn demo_scan_review_move_undo_and_explainer() {
    let m = manifest();
    assert_eq!(
        (m.backscatter, m.genuine, m.unverified, m.inbox),
        (40, 2, 1, 60),
        "the demo changed"
    );
    let mut h = harness(Options::default());
    h.run();

    // Welcome.
    assert_eq!(h.state().screen(), Screen::Welcome);
    h.get_by_role_and_label(Role::Button, "Connect a mailbox");
    assert!(has_text(&h, "proves against your Sent folder"));
    h.get_by_role_and_label(Role::Button, "Try the demo mailbox").click();

    // The scan runs on the worker, on a temporary copy of the demo.
    let bs = tab_label("Backscatter", m.backscatter);
    wait_for(&mut h, "the demo scan", |h| has(h, &bs));
    assert_eq!(h.state().screen(), Screen::Review);
    h.get_by_role_and_label(Role::Button, &bs);
    // The other tabs are checked at the end, so that a wrong verdict elsewhere in the pipeline
    // does not hide what the rest of this test finds out about the app.
    let tabs_after_scan = tab_labels(&h);
    // Backscatter is preselected; the rows' checkboxes say so.
    let checked = h
        .query_all_by_role(Role::CheckBox)
        .filter(|n| n.accesskit_node().label().is_some_and(|l| l.starts_with("Move to Trash")))
        .count();
    assert!(checked > 5, "the visible backscatter rows have labelled checkboxes");
    assert!(has_text(&h, "Backscatter per day"));

    let dir = h.state().mailbox_path().expect("the demo's directory").to_path_buf();
    assert_eq!(files(&dir).len(), m.inbox);
    assert_eq!(files(&dir.join(".Trash")).len(), 0);

    // Genuine bounces: never preselected, and the primary button does not count them.
    let genuine_tab = tabs_after_scan[1].clone();
    h.get_by_role_and_label(Role::Button, &genuine_tab).click();
    h.run_ok();
    assert!(has_text(&h, "Bounces of messages you really sent"));
    let row_boxes: Vec<_> = h
        .query_all_by_role(Role::CheckBox)
        .filter(|n| n.accesskit_node().label().is_some_and(|l| l.starts_with("Move to Trash")))
        .map(|n| n.accesskit_node().toggled())
        .collect();
    assert!(!row_boxes.is_empty(), "the genuine tab lists the genuine bounces");
    assert!(
        row_boxes.iter().all(|t| *t == Some(egui::accesskit::Toggled::False)),
        "genuine bounces are never preselected: {row_boxes:?}"
    );
    h.get_by_role_and_label(Role::Button, &bs).click();
    h.run_ok();

    // Selecting a row shows the evidence and the bounce as plain text.
    h.key_press(egui::Key::ArrowDown);
    wait_for(&mut h, "the detail pane", |h| {
        has(h, "The bounce as plain text") || has_text(h, "could not be read")
    });
    assert!(has(&h, "The bounce as plain text"), "the message text loads");
    assert!(has(&h, "Original Message-ID"));

    // One click, a confirmation, and the 40 go to Trash.
    let primary = format!("Move {} backscatter messages to Trash", m.backscatter);
    h.get_by_role_and_label(Role::Button, &primary).click();
    h.run_ok();
    assert!(has(&h, &format!("Move {} messages to Trash?", m.backscatter)));
    h.get_by_role_and_label(Role::Button, "Move to Trash").click();
    wait_for(&mut h, "the move to Trash", |h| has_text(h, "Moved 40 messages to Trash"));
    assert_eq!(files(&dir.join(".Trash")).len(), m.backscatter, "Trash holds the backscatter");
    assert_eq!(files(&dir).len(), m.inbox - m.backscatter, "the inbox keeps everything else");
    let inbox = files(&dir).join("\n");
    for g in &m.genuine_files {
        assert!(inbox.contains(g.as_str()), "genuine bounce {g} stays in the inbox");
    }
    h.get_by_role_and_label(Role::Button, &tab_label("Backscatter", 0));
    let genuine_now = tab_labels(&h).into_iter().find(|l| l.starts_with("Genuine"));
    let genuine_before = tabs_after_scan.iter().find(|l| l.starts_with("Genuine")).cloned();
    assert_eq!(genuine_now, genuine_before, "moving backscatter leaves the genuine bounces");

    // Undo puts them back, and the inbox is read again.
    h.get_by_role_and_label(Role::Button, "Undo").click();
    wait_for(&mut h, "undo and the rescan", |h| {
        has(h, &bs) && h.state().screen() == Screen::Review
    });
    assert!(has_text(&h, "Put 40 messages back in your inbox"));
    assert_eq!(files(&dir).len(), m.inbox);
    assert_eq!(files(&dir.join(".Trash")).len(), 0);

    // The explainer, with the user's own numbers and a real example.
    h.get_by_role_and_label(Role::Button, "Why am I getting these?").click();
    h.run_ok();
    assert_eq!(h.state().screen(), Screen::Explainer);
    assert!(has_text(&h, "forged"));
    assert!(has_text(&h, &format!("NeverSent checked {} messages in INBOX", m.inbox)));
    assert!(has_text(
        &h,
        &format!(
            "{} are about messages that are not among the {} messages in your Sent folder",
            m.backscatter, m.sent
        )
    ));
    assert!(has_text(&h, "For example, one bounce says you wrote to"));
    assert!(has_text(&h, "DMARC with p=reject"));
    assert!(has_text(&h, "alex@example.org"), "the diagram names the forged address");
    h.get_by_role_and_label(Role::Button, "Back").click();
    h.run_ok();
    assert_eq!(h.state().screen(), Screen::Review);

    // Every tab's count is the MANIFEST's.
    let want: Vec<String> = vec![
        tab_label("Backscatter", m.backscatter),
        tab_label("Genuine", m.genuine),
        tab_label("Unverified", m.unverified),
        tab_label("Suspicious", m.suspicious),
    ];
    assert_eq!(tabs_after_scan, want, "tab counts after the scan vs assets/demo/MANIFEST.tsv");
    assert_eq!(tab_labels(&h), want, "tab counts after undo and rescan");
}

/// The labels of the four verdict tabs, in order.
fn tab_labels(h: &Harness<'static, NeverSentApp>) -> Vec<String> {
    ["Backscatter (", "Genuine (", "Unverified (", "Suspicious ("]
        .iter()
        .map(|p| {
            h.query_all_by_role(Role::Button)
                .filter_map(|n| n.accesskit_node().label())
                .find(|l| l.starts_with(p))
                .unwrap_or_else(|| format!("no {p}…) tab"))
        })
        .collect()
}

#[test]
fn keyboard_moves_selection_toggles_and_deletes() {
    let mut h = harness(Options { demo: true });
    wait_for(&mut h, "the demo scan", |h| has(h, "Backscatter (40)"));
    h.key_press(egui::Key::ArrowDown);
    h.run_ok();
    h.key_press(egui::Key::ArrowDown);
    h.run_ok();
    // Space unchecks the selected row: 39 left for the primary button.
    h.key_press(egui::Key::Space);
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move 39 backscatter messages to Trash");
    h.key_press(egui::Key::Space);
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move 40 backscatter messages to Trash");
    // Ctrl+F focuses the search field; typing filters.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_ok();
    let search = h.get_by_role_and_label(Role::TextInput, "Search:");
    assert!(search.is_focused());
    search.type_text("no-such-bounce-anywhere");
    h.run_ok();
    assert!(has(&h, "No bounce matches the search."));
    // Delete asks before anything moves.
    h.get_by_role_and_label(Role::Button, "Clear search").click();
    h.run_ok();
    h.key_press(egui::Key::Escape);
    h.run_ok();
    h.key_press(egui::Key::Delete);
    h.run_ok();
    assert!(has(&h, "Move 40 messages to Trash?"));
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    h.run_ok();
    assert!(!has(&h, "Move 40 messages to Trash?"));
    let dir = h.state().mailbox_path().expect("demo dir").to_path_buf();
    assert_eq!(files(&dir.join(".Trash")).len(), 0, "cancel moved nothing");
}

/// The dates of the rows on screen, read from the rows' accessible text ("Backscatter,
/// 2026-11-21 02:03: Delivery failure to …"), top to bottom.
fn row_dates(h: &Harness<'static, NeverSentApp>) -> Vec<String> {
    h.query_all_by_role(Role::Row)
        .filter_map(|n| n.accesskit_node().label())
        .map(|l| {
            assert!(l.starts_with("Backscatter, "), "a backscatter row reads as such: {l}");
            l.split(", ").nth(1).and_then(|s| s.split(": ").next()).unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn the_table_is_readable_and_works_with_the_mouse() {
    let mut h = harness(Options { demo: true });
    wait_for(&mut h, "the demo scan", |h| has(h, "Backscatter (40)"));
    // Every row on screen is an accessible row with its text; newest first.
    let newest_first = row_dates(&h);
    assert!(newest_first.len() > 5, "rows on screen: {newest_first:?}");
    assert!(newest_first.windows(2).all(|w| w[0] >= w[1]), "{newest_first:?}");
    // The date header sorts, then reverses.
    h.get_by_role_and_label(Role::Button, "Date (UTC)▼").click();
    h.run_ok();
    let oldest_first = row_dates(&h);
    assert!(oldest_first.windows(2).all(|w| w[0] <= w[1]), "{oldest_first:?}");
    assert!(oldest_first[0] < newest_first[0], "{oldest_first:?} after {newest_first:?}");
    h.get_by_role_and_label(Role::Button, "Date (UTC)▲").click();
    h.run_ok();
    assert_eq!(row_dates(&h), newest_first);
    // A click on a row's checkbox unchecks it, a second one checks it again.
    fn first_box<'h>(h: &'h Harness<'static, NeverSentApp>) -> egui_kittest::Node<'h> {
        h.query_all_by_role(Role::CheckBox)
            .find(|n| n.accesskit_node().label().is_some_and(|l| l.starts_with("Move to Trash")))
            .expect("a row's checkbox")
    }
    assert_eq!(first_box(&h).accesskit_node().toggled(), Some(egui::accesskit::Toggled::True));
    first_box(&h).click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move 39 backscatter messages to Trash");
    assert_eq!(first_box(&h).accesskit_node().toggled(), Some(egui::accesskit::Toggled::False));
    first_box(&h).click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move 40 backscatter messages to Trash");
    // A click on a row selects it: its message is shown.
    h.query_all_by_role(Role::Row).next().expect("a row").click();
    wait_for(&mut h, "the detail pane", |h| {
        has(h, "The bounce as plain text") || has_text(h, "could not be read")
    });
    assert!(has(&h, "The bounce as plain text"), "the selected message loads");
    // The keyboard works on the row clicked: Space unchecks it.
    h.key_press(egui::Key::Space);
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Move 39 backscatter messages to Trash");
}

#[test]
fn account_form_checks_fields_and_shows_connection_errors() {
    let mut h = harness(Options::default());
    h.run();
    h.get_by_role_and_label(Role::Button, "Connect a mailbox").click();
    h.run();
    assert_eq!(h.state().screen(), Screen::Account);
    // Gmail is the first preset: its server and app-password hint are filled in.
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Server:").value().as_deref(),
        Some("imap.gmail.com")
    );
    assert!(has_text(&h, "2-Step Verification must be on"));
    assert!(has(&h, "https://myaccount.google.com/apppasswords"));

    // "Other" clears the server; testing an empty form names each missing field.
    h.get_by_role_and_label(Role::ComboBox, "Provider:").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "Other").click();
    h.run();
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "Server:").value().as_deref(), Some(""));
    h.get_by_role_and_label(Role::Button, "Test connection").click();
    h.run();
    assert!(has(&h, "Enter the IMAP server name (for example imap.example.org)."));
    assert!(has(&h, "Enter your user name (usually your full email address)."));
    assert!(has(&h, "Enter the password (or the app password your provider gave you)."));

    // A closed port on this computer: the store's own "connection refused" is shown.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    type_into(&mut h, Role::TextInput, "Server:", "127.0.0.1");
    type_into(&mut h, Role::TextInput, "Port:", &port.to_string());
    type_into(&mut h, Role::TextInput, "Email address / user name:", "alex@example.org");
    type_into(&mut h, Role::PasswordInput, "Password:", "not-the-password");
    h.get_by_role_and_label(Role::Button, "Test connection").click();
    wait_for(&mut h, "the connection error", |h| has(h, "Connection refused"));
    assert!(has_text(&h, &format!("nothing accepts IMAP connections on port {port} of 127.0.0.1")));
    assert!(!has_text(&h, "Enter the IMAP server name"), "the form is valid now");
    // A test connection does not save the account.
    assert!(!h.state().is_busy());
}

#[test]
fn snapshots_of_the_main_views() {
    let mut h = harness(Options::default());
    h.run();
    snapshot(&mut h, "welcome");
    h.get_by_role_and_label(Role::Button, "Try the demo mailbox").click();
    wait_for(&mut h, "the demo scan", |h| has(h, "Backscatter (40)"));
    h.run_ok();
    snapshot(&mut h, "review");
    h.get_by_role_and_label(Role::Button, "Why am I getting these?").click();
    h.run_ok();
    snapshot(&mut h, "explainer");
}

#[test]
fn a_local_maildir_is_scanned_read_only() {
    let m = manifest();
    let mut h = harness(Options::default());
    h.run();
    // A copy of the demo, as a user's own Maildir.
    let dir = std::env::temp_dir().join(format!("neversent-ui-maildir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    neversent::ui::demo::copy_into({
        std::fs::create_dir_all(&dir).expect("dir");
        &dir
    })
    .expect("copy");
    h.get_by_role_and_label(Role::Button, "Connect a mailbox").click();
    h.run();
    // An empty path is refused with a message; a folder that is not a Maildir says so.
    h.get_by_role_and_label(Role::Button, "Scan this folder").click();
    h.run();
    assert!(has(&h, "Enter the folder's path."));
    let field = h.get_by_role_and_label(Role::TextInput, "Maildir folder:");
    field.focus();
    field.type_text("/nonexistent/mail");
    h.run();
    h.get_by_role_and_label(Role::Button, "Scan this folder").click();
    wait_for(&mut h, "the error", |h| has_text(h, "Not a Maildir (no cur/ or new/ folder)"));
    h.get_by_role_and_label(Role::Button, "Back").click();
    h.run();
    let field = h.get_by_role_and_label(Role::TextInput, "Maildir folder:");
    field.focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.get_by_role_and_label(Role::TextInput, "Maildir folder:")
        .type_text(&dir.display().to_string());
    h.run();
    h.get_by_role_and_label(Role::Button, "Scan this folder").click();
    wait_for(&mut h, "the Maildir scan", |h| has(h, &tab_label("Backscatter", m.backscatter)));
    // Scanning changed no message file.
    assert_eq!(files(&dir).len(), m.inbox);
    assert_eq!(files(&dir.join(".Trash")).len(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
