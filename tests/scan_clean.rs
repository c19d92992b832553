//! Scan, triage and clean against a real Dovecot holding the bundled demo mailbox: every
//! verdict, the clean that moves exactly the backscatter, and the faults.

mod support;

use neversent::clean::{self, CleanError};
use neversent::mailstore::imap::{ImapStore, Security};
use neversent::mailstore::{MailStore, StoreError};
use neversent::scan::cache::CacheLocation;
use neversent::scan::{self, ScanConfig, ScanReport};
use neversent::triage::Verdict;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use support::dovecot::{builder, Dovecot, Layout, PASSWORD, USER};
use support::{demo, demo_server};

/// Runs the real binary with the test server's account; returns (exit code, stdout, stderr).
fn cli(d: &Dovecot, cache: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neversent"))
        .args(args)
        .args(["--host", "localhost", "--port", &d.imaps_port.to_string(), "--user", USER])
        .arg("--ca-cert")
        .arg(d.cert_path())
        .env("NEVERSENT_PASSWORD", PASSWORD)
        .env("XDG_CACHE_HOME", cache)
        .env("XDG_CONFIG_HOME", cache)
        .output()
        .expect("run neversent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the manifest says the scan must find: verdict counts, and the verdict per original id.
fn expected() -> (BTreeMap<String, usize>, BTreeMap<String, String>) {
    let mut counts = BTreeMap::new();
    let mut by_id = BTreeMap::new();
    for m in demo().into_iter().filter(|m| m.folder == "INBOX" && m.verdict != "not_bounce") {
        *counts.entry(m.verdict.clone()).or_insert(0) += 1;
        if let Some(id) = m.original_message_id {
            by_id.insert(id, m.verdict);
        }
    }
    (counts, by_id)
}

fn assert_matches_manifest(items: &[Value]) {
    let (counts, by_id) = expected();
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for i in items {
        let verdict = i["verdict"].as_str().expect("verdict").to_string();
        *got.entry(verdict.clone()).or_insert(0) += 1;
        if let Some(id) = i["original_message_id"].as_str() {
            if let Some(want) = by_id.get(id) {
                assert_eq!(&verdict, want, "verdict for the bounce of <{id}>: {i}");
            }
        }
    }
    assert_eq!(got, counts, "verdict counts");
}

fn report_items(r: &ScanReport) -> Vec<Value> {
    r.items
        .iter()
        .map(|i| {
            serde_json::json!({
                "uid": i.uid,
                "verdict": i.verdict.map(Verdict::name),
                "original_message_id": i.analysis.original.message_id,
            })
        })
        .collect()
}

#[test]
fn scan_gives_every_verdict_and_clean_moves_exactly_the_backscatter() {
    let d = demo_server(builder(), Layout::Standard, false);
    let cache = tempfile::tempdir().expect("tempdir");
    let before = d.contents("INBOX");

    let (code, out, err) = cli(&d, cache.path(), &["scan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let scan: Value = serde_json::from_str(out.trim()).expect("scan JSON");
    assert_eq!(scan["mailbox"], "INBOX");
    assert_eq!(scan["sent_mailbox"], "Sent");
    assert_eq!(scan["sent_messages"], 17);
    assert_eq!(scan["scanned"], before.len());
    assert!(scan["uidvalidity"].as_u64().expect("uidvalidity") > 0);
    let items = scan["items"].as_array().expect("items");
    assert_matches_manifest(items);
    for i in items {
        assert!(!i["reasons"].as_array().expect("reasons").is_empty(), "{i}");
        assert!(i["kind"].as_str().is_some_and(|k| k != "not_bounce"));
    }
    let backscatter: BTreeSet<u64> = items
        .iter()
        .filter(|i| i["verdict"] == "backscatter")
        .map(|i| i["uid"].as_u64().expect("uid"))
        .collect();
    let kept: BTreeSet<u64> = items
        .iter()
        .filter(|i| i["verdict"] != "backscatter")
        .map(|i| i["uid"].as_u64().expect("uid"))
        .collect();

    // The dry run changes nothing.
    let (code, out, err) = cli(&d, cache.path(), &["clean", "--dry-run", "--json"]);
    assert_eq!(code, 0, "{err}");
    let dry: Value = serde_json::from_str(out.trim()).expect("dry JSON");
    assert_eq!(dry["moved"], 0);
    assert_eq!(dry["would_move"], backscatter.len());
    assert_eq!(d.contents("INBOX").len(), before.len());

    let (code, out, err) = cli(&d, cache.path(), &["clean", "--yes", "--json"]);
    assert_eq!(code, 0, "{err}");
    let done: Value = serde_json::from_str(out.trim()).expect("clean JSON");
    assert_eq!(done["moved"], backscatter.len());
    assert_eq!(done["to"], "Trash");
    let moved: BTreeSet<u64> =
        done["uids"].as_array().expect("uids").iter().map(|u| u.as_u64().expect("uid")).collect();
    assert_eq!(moved, backscatter);

    let after: BTreeSet<u64> = d.contents("INBOX").iter().map(|(u, _, _)| *u as u64).collect();
    let all_before: BTreeSet<u64> = before.iter().map(|(u, _, _)| *u as u64).collect();
    assert_eq!(
        after,
        all_before.difference(&backscatter).copied().collect(),
        "only backscatter left the inbox"
    );
    assert!(kept.is_subset(&after), "genuine and unverified bounces stay");
    assert_eq!(d.contents("Trash").len(), backscatter.len(), "counts are conserved");
    assert_eq!(d.contents("Sent").len(), 17);
    // Nothing was marked read by the scans.
    assert!(d.contents("INBOX").iter().all(|(_, _, f)| !f.iter().any(|x| x.contains("Seen"))));

    // Cleaning again finds nothing more to move.
    let (code, out, _) = cli(&d, cache.path(), &["clean", "--yes", "--json"]);
    assert_eq!(code, 0);
    let again: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(again["moved"], 0);
}

#[test]
fn the_cli_says_what_is_wrong_with_exit_codes() {
    let d = builder().start();
    let cache = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = cli(&d, cache.path(), &["clean", "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--dry-run or --yes"), "{err}");
    let (code, _, err) = cli(&d, cache.path(), &["scan", "--tls", "sometimes"]);
    assert_eq!(code, 2, "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_neversent"))
        .args(["scan", "--host", "localhost", "--port", &d.imaps_port.to_string(), "--user", USER])
        .arg("--ca-cert")
        .arg(d.cert_path())
        .env("NEVERSENT_PASSWORD", "wrong")
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the password"), "{err}");
    assert!(!err.contains("wrong"), "the password must not be printed: {err}");
}

fn connect(d: &Dovecot, security: Security) -> ImapStore {
    ImapStore::connect(&d.config(security)).unwrap_or_else(|e| panic!("connect: {e}\n{}", d.log()))
}

fn scan_with(store: &mut dyn MailStore, cache: Option<&std::path::Path>) -> ScanReport {
    let cfg = ScanConfig {
        cache: cache.map(|p| CacheLocation { dir: p.to_path_buf(), account: "test".into() }),
        ..Default::default()
    };
    scan::scan(store, &cfg, &mut |_| {}, &AtomicBool::new(false)).expect("scan")
}

fn backscatter_ids(d: &Dovecot, r: &ScanReport) -> BTreeSet<(u32, String)> {
    let contents = d.contents("INBOX");
    r.items
        .iter()
        .filter(|i| i.verdict == Some(Verdict::Backscatter))
        .map(|i| {
            let id = contents
                .iter()
                .find(|(u, _, _)| *u == i.uid)
                .map(|(_, id, _)| id.clone())
                .unwrap_or_default();
            (i.uid, id)
        })
        .collect()
}

/// Kills the connection in the middle of a clean (after the 2nd of 4 steps was sent), then
/// runs the clean again: everything ends up moved, nothing lost.
fn clean_survives_a_cut(d: &Dovecot, needle: &str) -> (usize, usize) {
    let proxy = support::proxy::CutProxy::start(d.imap_port, needle, 2);
    let mut cfg = d.config(Security::Plain);
    cfg.port = proxy.port;
    let mut store = ImapStore::connect(&cfg).expect("connect through proxy");
    let report = scan_with(&mut store, None);
    let inbox_before = d.contents("INBOX").len();
    let targets = backscatter_ids(d, &report);
    assert!(targets.len() >= 30);
    let plan = clean::plan(&report, None).expect("plan");
    let step = plan.uids.len().div_ceil(4);
    let err =
        clean::execute_in_steps(&mut store, &plan, step, &mut |_, _| {}, &AtomicBool::new(false))
            .expect_err("the connection was cut");
    assert!(matches!(err, CleanError::Store(StoreError::ConnectionLost { .. })), "{err:?}");
    assert_eq!(proxy.hits(), 2);
    // Part-way: each message is in the inbox or in Trash (or, copying, in both).
    let mid_inbox = d.contents("INBOX").len();
    let mid_trash = d.contents("Trash").len();
    assert!(mid_inbox + mid_trash >= inbox_before, "{mid_inbox} + {mid_trash} < {inbox_before}");
    assert!(mid_inbox > inbox_before - targets.len(), "the clean did not finish yet");

    // Run it again, as a user would: scan, clean.
    let mut store = connect(d, Security::Implicit);
    let report = scan_with(&mut store, None);
    let plan = clean::plan(&report, None).expect("plan");
    clean::execute(&mut store, &plan, &mut |_, _| {}, &AtomicBool::new(false)).expect("finish");
    let inbox = d.contents("INBOX");
    let trash_ids: BTreeSet<String> =
        d.contents("Trash").into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(inbox.len(), inbox_before - targets.len(), "all backscatter left the inbox");
    for (uid, id) in &targets {
        assert!(!inbox.iter().any(|(u, _, _)| u == uid), "uid {uid} still in the inbox");
        if !id.is_empty() {
            assert!(trash_ids.contains(id), "{id} is not in Trash: lost");
        }
    }
    (targets.len(), d.contents("Trash").len())
}

#[test]
fn a_cut_connection_in_the_middle_of_a_move_loses_nothing_and_a_rerun_finishes() {
    let d = demo_server(builder(), Layout::Standard, false);
    let (targets, in_trash) = clean_survives_a_cut(&d, "UID MOVE");
    assert_eq!(in_trash, targets, "MOVE never duplicates");
}

#[test]
fn a_cut_connection_in_the_middle_of_copy_and_expunge_leaves_at_most_a_recoverable_copy() {
    let d = demo_server(builder().without_move(), Layout::Standard, false);
    let (targets, in_trash) = clean_survives_a_cut(&d, "UID COPY");
    let step = targets.div_ceil(4);
    assert!(in_trash >= targets && in_trash <= targets + step, "{in_trash} in Trash for {targets}");
}

#[test]
fn clean_refuses_when_uidvalidity_changed_since_the_scan() {
    let d = demo_server(builder(), Layout::Standard, false);
    let mut other = d.raw_session();
    other.create("Bounces").expect("create");
    let bounces: Vec<Vec<u8>> = demo()
        .into_iter()
        .filter(|m| m.folder == "INBOX" && m.verdict == "backscatter")
        .take(5)
        .map(|m| m.raw)
        .collect();
    for b in &bounces {
        other.append("Bounces", b).finish().expect("append");
    }
    let mut store = connect(&d, Security::Implicit);
    let cfg = ScanConfig { inbox: "Bounces".into(), ..Default::default() };
    let report = scan::scan(&mut store, &cfg, &mut |_| {}, &AtomicBool::new(false)).expect("scan");
    assert_eq!(report.count(Verdict::Backscatter), 5);
    let plan = clean::plan(&report, None).expect("plan");
    // The folder is deleted and made again: same name, same messages, new UIDVALIDITY.
    other.delete("Bounces").expect("delete");
    other.create("Bounces").expect("create");
    for b in &bounces {
        other.append("Bounces", b).finish().expect("append");
    }
    let err = clean::execute(&mut store, &plan, &mut |_, _| {}, &AtomicBool::new(false))
        .expect_err("must refuse");
    assert!(matches!(err, CleanError::Store(StoreError::UidValidityChanged { .. })), "{err:?}");
    assert!(err.to_string().contains("scan again"), "{err}");
    assert_eq!(d.contents("Bounces").len(), 5);
    assert!(d.contents("Trash").is_empty());
}

#[test]
fn without_uidplus_clean_copies_and_flags_and_says_so() {
    let d = demo_server(builder().without_uidplus(), Layout::Standard, false);
    let cache = tempfile::tempdir().expect("tempdir");
    let inbox_before = d.contents("INBOX").len();
    let (code, out, err) = cli(&d, cache.path(), &["clean", "--yes", "--json"]);
    assert_eq!(code, 0, "{err}");
    let done: Value = serde_json::from_str(out.trim()).expect("JSON");
    let moved = done["moved"].as_u64().expect("moved") as usize;
    assert!(moved >= 30);
    assert!(err.contains("no UIDPLUS"), "{err}");
    assert_eq!(d.contents("INBOX").len(), inbox_before, "nothing expunged");
    assert_eq!(d.contents("Trash").len(), moved);
    let flagged = d
        .contents("INBOX")
        .iter()
        .filter(|(_, _, f)| f.iter().any(|x| x.contains("Deleted")))
        .count();
    assert_eq!(flagged, moved);
}

#[test]
fn sent_found_by_name_and_localized() {
    for layout in [Layout::SentItemsNoSpecialUse, Layout::German, Layout::French] {
        let d = demo_server(builder(), layout, false);
        let mut store = connect(&d, Security::Implicit);
        let report = scan_with(&mut store, None);
        assert_eq!(report.sent_mailbox.as_deref(), Some(layout.sent().as_str()), "{layout:?}");
        assert_eq!(report.sent_messages, 17);
        assert_matches_manifest(&report_items(&report));
        assert_eq!(report.trash_mailbox.as_deref(), Some(layout.trash().as_str()));
    }
}

#[test]
fn an_empty_sent_folder_makes_every_bounce_unverified_and_nothing_preselected() {
    let d = demo_server(builder(), Layout::Standard, true);
    let mut store = connect(&d, Security::Implicit);
    let report = scan_with(&mut store, None);
    assert_eq!(report.sent_messages, 0);
    assert!(report.items.len() >= 40);
    assert!(report.items.iter().all(|i| i.verdict == Some(Verdict::Unverified)));
    assert!(report.warnings.iter().any(|w| w.contains("is empty")), "{:?}", report.warnings);
    assert!(clean::plan(&report, None).expect("plan").uids.is_empty());
}

#[test]
fn a_rescan_fetches_only_new_mail() {
    let d = demo_server(builder(), Layout::Standard, false);
    let cache = tempfile::tempdir().expect("tempdir");
    let mut store = connect(&d, Security::Implicit);
    let first = scan_with(&mut store, Some(cache.path()));
    let n = first.scanned;
    assert_eq!(first.stats.headers_fetched, n);
    assert!(first.stats.bodies_fetched >= first.items.len());
    assert!(first.stats.bodies_fetched < n, "bodies only of candidates");

    // Two new messages arrive: a bounce and an ordinary one.
    let bounce = demo().into_iter().find(|m| m.verdict == "backscatter").expect("a bounce").raw;
    d.append("INBOX", &bounce);
    d.append(
        "INBOX",
        &support::dovecot::message("new@example.net", "ann@example.net", USER, "Hi", "Hello"),
    );
    let mut store = connect(&d, Security::Implicit);
    let second = scan_with(&mut store, Some(cache.path()));
    assert_eq!(second.stats.from_cache, n);
    assert_eq!(second.stats.headers_fetched, 2);
    assert!(second.stats.bodies_fetched <= 2 && second.stats.bodies_fetched >= 1);
    assert_eq!(second.stats.sent_headers_fetched, 0, "Sent came from the cache");
    assert_eq!(second.items.len(), first.items.len() + 1);
    assert_eq!(second.count(Verdict::Backscatter), first.count(Verdict::Backscatter) + 1);

    // Nothing new: nothing fetched at all.
    let mut store = connect(&d, Security::Implicit);
    let third = scan_with(&mut store, Some(cache.path()));
    assert_eq!(third.stats.headers_fetched, 0);
    assert_eq!(third.stats.bodies_fetched, 0);
    assert_eq!(store.bytes_fetched(), 0);
    assert_eq!(third.items.len(), second.items.len());

    // A message that went away is dropped from the results.
    let victim = third.items[0].uid;
    let mut other = d.raw_session();
    other.select("INBOX").expect("select");
    other.uid_mv(victim.to_string(), "Junk").expect("move away");
    let mut store = connect(&d, Security::Implicit);
    let fourth = scan_with(&mut store, Some(cache.path()));
    assert_eq!(fourth.items.len(), third.items.len() - 1);
    assert!(fourth.items.iter().all(|i| i.uid != victim));
}

#[test]
fn undo_brings_the_moved_messages_back() {
    let d = demo_server(builder(), Layout::Standard, false);
    let before: BTreeSet<String> = d.contents("INBOX").into_iter().map(|(_, id, _)| id).collect();
    let count = d.contents("INBOX").len();
    let mut store = connect(&d, Security::Implicit);
    let report = scan_with(&mut store, None);
    let plan = clean::plan(&report, None).expect("plan");
    let outcome =
        clean::execute(&mut store, &plan, &mut |_, _| {}, &AtomicBool::new(false)).expect("clean");
    assert_eq!(d.contents("INBOX").len(), count - outcome.moved.len());
    let back = clean::undo(&mut store, &plan, &outcome, &mut |_, _| {}).expect("undo");
    assert_eq!(back, outcome.moved.len());
    let after: BTreeSet<String> = d.contents("INBOX").into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(d.contents("INBOX").len(), count);
    assert_eq!(after, before);
    assert!(d.contents("Trash").is_empty());
}

#[test]
fn scanning_a_maildir_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join("demo");
    copy_dir(&support::demo_dir(), &copy);
    let out = Command::new(env!("CARGO_BIN_EXE_neversent"))
        .args(["clean", "--yes", "--json", "--maildir"])
        .arg(&copy)
        .env("XDG_CACHE_HOME", tmp.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let (counts, _) = expected();
    assert_eq!(done["moved"], counts["backscatter"]);
    let in_trash = std::fs::read_dir(copy.join(".Trash/cur"))
        .expect("trash")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(in_trash, counts["backscatter"]);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readdir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_huge_sent_with_few_bounces_is_searched_not_indexed() {
    let mut b = builder();
    for i in 0..2500 {
        let m = support::dovecot::message(
            &format!("old{i}@example.org"),
            USER,
            &format!("friend{i}@example.com"),
            "Old news",
            "x",
        );
        b = b.message("Sent", &m, "S");
    }
    let d = demo_server(b, Layout::Standard, false);
    let mut store = connect(&d, Security::Implicit);
    let report = scan_with(&mut store, None);
    assert!(report.stats.sent_searched, "{:?}", report.stats);
    assert!(report.stats.sent_headers_fetched < 100, "{:?}", report.stats);
    assert_eq!(report.sent_messages, 2517);
    assert_matches_manifest(&report_items(&report));
    assert!(store.journal().iter().filter(|c| *c == "UID SEARCH").count() > 10);
}

#[test]
fn a_cancelled_scan_stops_and_says_so() {
    let d = demo_server(builder(), Layout::Standard, false);
    let mut store = connect(&d, Security::Implicit);
    let cancel = AtomicBool::new(true);
    let err = scan::scan(&mut store, &ScanConfig::default(), &mut |_| {}, &cancel)
        .expect_err("cancelled");
    assert_eq!(err, scan::ScanError::Cancelled);
}

#[test]
fn undo_finds_the_messages_by_message_id_when_the_server_did_not_say_where_they_went() {
    let d = demo_server(builder(), Layout::Standard, false);
    let count = d.contents("INBOX").len();
    let mut store = connect(&d, Security::Implicit);
    let report = scan_with(&mut store, None);
    let plan = clean::plan(&report, None).expect("plan");
    let mut outcome =
        clean::execute(&mut store, &plan, &mut |_, _| {}, &AtomicBool::new(false)).expect("clean");
    outcome.uid_map.clear();
    let with_id = plan.message_ids.len();
    let back = clean::undo(&mut store, &plan, &outcome, &mut |_, _| {}).expect("undo");
    assert_eq!(back, with_id, "every moved bounce with a Message-ID came back");
    assert_eq!(d.contents("INBOX").len(), count - (outcome.moved.len() - with_id));
}
