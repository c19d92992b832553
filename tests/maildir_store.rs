//! The local Maildir store: read without changes, stable UIDs, move to Trash by rename.

use neversent::mailstore::maildir::MaildirStore;
use neversent::mailstore::{MailStore, RoleOverrides, StoreError};
use std::fs;
use std::ops::ControlFlow;
use std::path::Path;

fn write_msg(dir: &Path, sub: &str, name: &str, id: &str, subject: &str) {
    fs::create_dir_all(dir.join(sub)).expect("mkdir");
    let raw = format!(
        "From: Ann <ann@example.net>\nTo: alex@example.org\nSubject: {subject}\nMessage-ID: <{id}>\n\nbody of {id}\n"
    );
    fs::write(dir.join(sub).join(name), raw).expect("write");
}

fn maildir() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path();
    for folder in ["", ".Sent", ".Trash", ".Envoy&AOk-s"] {
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(root.join(folder).join(sub)).expect("mkdir");
        }
    }
    write_msg(root, "cur", "1000.M1.host:2,S", "a@example.net", "One");
    write_msg(root, "cur", "1001.M2.host:2,", "b@example.net", "Two");
    write_msg(root, "new", "1002.M3.host", "c@example.net", "Three");
    write_msg(&root.join(".Sent"), "cur", "900.M1.host:2,S", "s@example.org", "Sent one");
    t
}

fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(root) {
        out.push((entry.display().to_string(), fs::read(&entry).expect("read")));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("readdir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("neversent-uidlist"))
        {
            out.push(p);
        }
    }
    out
}

#[test]
fn reads_folders_headers_and_bodies_without_changing_any_message() {
    let t = maildir();
    let before = snapshot(t.path());
    let mut store = MaildirStore::open(t.path()).expect("open");
    let folders = store.list_folders().expect("folders");
    let names: Vec<&str> = folders.iter().map(|f| f.display_name.as_str()).collect();
    assert_eq!(names, vec!["INBOX", "Envoyés", "Sent", "Trash"]);
    let roles = store.roles(&RoleOverrides::default()).expect("roles");
    assert_eq!(roles.sent_name(), Some("Sent"));
    assert_eq!(roles.trash_name(), Some("Trash"));

    let (status, uids) = store.uids("INBOX").expect("uids");
    assert_eq!(uids, vec![1, 2, 3]);
    assert_eq!(status.exists, 3);
    let mut headers = Vec::new();
    store
        .fetch_headers("INBOX", &uids, &["Subject", "Message-ID"], &mut |b| {
            headers.extend(b);
            ControlFlow::Continue(())
        })
        .expect("headers");
    let subjects: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(&h.headers).lines().next().unwrap_or("").to_string())
        .collect();
    assert_eq!(subjects, vec!["Subject: One", "Subject: Two", "Subject: Three"]);
    assert!(!String::from_utf8_lossy(&headers[0].headers).contains("From:"));
    let bodies = store.fetch_bodies("INBOX", &uids, 10).expect("bodies");
    assert!(bodies.iter().all(|b| b.truncated && b.raw.len() == 10));
    assert_eq!(snapshot(t.path()), before, "reading changed a message file");
}

#[test]
fn uids_are_stable_across_sessions_and_never_reused() {
    let t = maildir();
    let (v1, first) = {
        let mut store = MaildirStore::open(t.path()).expect("open");
        let (s, uids) = store.uids("INBOX").expect("uids");
        (s.uidvalidity, uids)
    };
    // One message goes away, one arrives.
    let gone = fs::read_dir(t.path().join("cur"))
        .expect("cur")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("1000."));
    fs::remove_file(gone.expect("file").path()).expect("rm");
    write_msg(t.path(), "new", "0999.M9.host", "d@example.net", "Four");
    let mut store = MaildirStore::open(t.path()).expect("open");
    let (s, uids) = store.uids("INBOX").expect("uids");
    assert_eq!(s.uidvalidity, v1);
    assert_eq!(first, vec![1, 2, 3]);
    // 1 is gone and not reused; the new message gets 4 although its name sorts first.
    assert_eq!(uids, vec![2, 3, 4]);
}

#[test]
fn moves_to_trash_by_rename_and_checks_uidvalidity() {
    let t = maildir();
    let mut store = MaildirStore::open(t.path()).expect("open");
    let (status, _) = store.uids("INBOX").expect("uids");
    let err =
        store.move_messages("INBOX", status.uidvalidity + 1, &[1], "Trash").expect_err("refuse");
    assert!(matches!(err, StoreError::UidValidityChanged { .. }));

    let report =
        store.move_messages("INBOX", status.uidvalidity, &[1, 3, 77], "Trash").expect("move");
    assert_eq!(report.moved, vec![1, 3]);
    assert_eq!(report.missing, vec![77]);
    assert_eq!(report.uid_map.len(), 2);
    let (_, left) = store.uids("INBOX").expect("uids");
    assert_eq!(left, vec![2]);
    let (_, in_trash) = store.uids("Trash").expect("uids");
    assert_eq!(in_trash.len(), 2);
    let bodies = store.fetch_bodies("Trash", &in_trash, 4096).expect("bodies");
    let text: String =
        bodies.iter().map(|b| String::from_utf8_lossy(&b.raw).into_owned()).collect();
    assert!(text.contains("body of a@example.net") && text.contains("body of c@example.net"));
    // The message from new/ went to Trash's cur/ with an info suffix; the seen flag was kept.
    let names: Vec<String> = fs::read_dir(t.path().join(".Trash/cur"))
        .expect("trash cur")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"1000.M1.host:2,S".to_string()), "{names:?}");
    assert!(names.contains(&"1002.M3.host:2,".to_string()), "{names:?}");
    // Running it again finds nothing left to move and loses nothing.
    let again = store.move_messages("INBOX", status.uidvalidity, &[1, 3], "Trash").expect("again");
    assert!(again.moved.is_empty());
    assert_eq!(store.uids("Trash").expect("uids").1.len(), 2);
}

#[test]
fn not_a_maildir_is_a_clear_error() {
    let t = tempfile::tempdir().expect("tempdir");
    let err = MaildirStore::open(t.path()).err().expect("must fail");
    assert!(err.to_string().contains("not a Maildir"), "{err}");
    let good = maildir();
    let mut store = MaildirStore::open(good.path()).expect("open");
    assert!(matches!(store.uids("Nope"), Err(StoreError::NoSuchFolder { .. })));
    assert!(matches!(store.uids("../etc"), Err(StoreError::NoSuchFolder { .. })));
}
