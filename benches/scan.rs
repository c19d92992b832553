//! Benchmark of the whole scan: N inbox messages (1% bounces: half backscatter, some genuine
//! whose originals are in Sent, some auto-replies) and N/5 in Sent, loaded as Maildir files into a
//! private Dovecot. Prints
//! - scan time vs the raw floor (one connection, pipelined: the inbox's header fields, the
//!   bounces' bodies, Sent's header fields), goal ≤ 1.3×;
//! - bytes fetched vs the minimum (those same bytes), goal ≤ 1.1×;
//! - peak RSS of the process that scans (a child, so loading the test data does not count),
//!   goal ≤ 200 MB;
//! - what a rescan with no new mail fetches (goal: nothing).
//!
//! `cargo bench --bench scan [-- N]` (default N = 100000).

#[path = "../tests/support/mod.rs"]
mod support;

use neversent::mailstore::imap::{ImapStore, Security};
use neversent::mailstore::rawfetch::{pipelined_fetch, RawEvent};
use neversent::mailstore::uid_sets;
use neversent::scan::cache::CacheLocation;
use neversent::scan::{self, ScanConfig};
use neversent::triage::{Verdict, SENT_FIELDS};
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use support::dovecot::{builder, PASSWORD, USER};

fn sent(i: usize) -> Vec<u8> {
    format!(
        "From: Alex <alex@example.org>\r\nTo: friend{f}@example.com\r\nSubject: Note {i}\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <sent{i}@mail.example.org>\r\n\r\nHello {i}\r\n",
        f = i % 3000
    )
    .into_bytes()
}

/// A Postfix-style DSN. `genuine`: about a message that is in Sent.
fn bounce(i: usize, genuine: bool) -> Vec<u8> {
    let (orig_id, to, subject) = if genuine {
        (
            format!("sent{}@mail.example.org", i % 1000),
            format!("friend{}@example.com", i % 1000),
            format!("Note {}", i % 1000),
        )
    } else {
        (
            format!("{i:x}.spam@botnet{}.example", i % 7),
            format!("victim{i}@example.net"),
            "Cheap meds online".to_string(),
        )
    };
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx{i}.example.net (Mail Delivery System)\r\nTo: alex@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: Wed, 04 Nov 2026 08:00:00 +0000\r\nMessage-ID: <bounce{i}@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B{i}\"\r\n\r\n--B{i}\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx{i}.example.net.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n<{to}>: host mx.example.net said: 550 5.1.1 User unknown\r\n\r\n--B{i}\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx{i}.example.net\r\n\r\nFinal-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B{i}\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alex@example.org\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{orig_id}>\r\nDate: Tue, 03 Nov 2026 07:00:00 +0000\r\n\r\n--B{i}--\r\n"
    )
    .into_bytes()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The child: scans once without cache and once more with a warm cache, prints figures as
/// `key=value` lines.
fn child(port: u16, cert: &str, cache_dir: &str) {
    let mut cfg = neversent::mailstore::imap::ImapConfig::new(
        "localhost",
        USER,
        neversent::mailstore::imap::Credentials::Password(neversent::mailstore::imap::Secret::new(
            PASSWORD,
        )),
    );
    cfg.port = port;
    cfg.ca_cert = Some(cert.into());
    cfg.security = Security::Implicit;
    let cancel = AtomicBool::new(false);
    let cache = Some(CacheLocation { dir: cache_dir.into(), account: "bench".into() });

    let t = Instant::now();
    let mut store = ImapStore::connect(&cfg).expect("connect");
    let report = scan::scan(
        &mut store,
        &ScanConfig { cache: cache.clone(), ..Default::default() },
        &mut |_| {},
        &cancel,
    )
    .expect("scan");
    let secs = t.elapsed().as_secs_f64();
    println!("scan_seconds={secs}");
    println!("scan_bytes={}", store.bytes_fetched());
    println!("scan_items={}", report.items.len());
    println!("backscatter={}", report.count(Verdict::Backscatter));
    println!("genuine={}", report.count(Verdict::Genuine));
    println!("candidates={}", report.stats.bodies_fetched);
    println!("sent_searched={}", report.stats.sent_searched);
    println!("peak_rss_kib={}", peak_rss_kib());
    drop(store);

    let mut store = ImapStore::connect(&cfg).expect("connect");
    let t = Instant::now();
    let again =
        scan::scan(&mut store, &ScanConfig { cache, ..Default::default() }, &mut |_| {}, &cancel)
            .expect("rescan");
    println!("rescan_seconds={}", t.elapsed().as_secs_f64());
    println!("rescan_headers={}", again.stats.headers_fetched);
    println!("rescan_bodies={}", again.stats.bodies_fetched);
    println!("rescan_sent_headers={}", again.stats.sent_headers_fetched);
    println!("rescan_bytes={}", store.bytes_fetched());
}

/// The floor: one connection, everything pipelined with no processing. Returns (seconds, bytes).
fn floor(d: &support::dovecot::Dovecot, bounce_uids: &[u32]) -> (f64, u64) {
    let t = Instant::now();
    let mut s = d.tls_stream();
    let mut line = Vec::new();
    {
        let mut r = BufReader::new(&mut s);
        r.read_until(b'\n', &mut line).expect("greeting");
    }
    s.write_all(format!("l LOGIN \"{USER}\" \"{PASSWORD}\"\r\n").as_bytes()).expect("login");
    let mut bytes = 0u64;
    let mut count = |e: RawEvent| {
        if let RawEvent::Fetch(f) = e {
            bytes += f.section.map(|x| x.len() as u64).unwrap_or(0);
        }
        ControlFlow::Continue(())
    };
    // The login answer arrives before the first fetch answer; `command` reads up to it.
    let _ = neversent::mailstore::rawfetch::command(&mut s, "e", "EXAMINE INBOX").expect("examine");
    let fields = scan::inbox_fields().join(" ");
    pipelined_fetch(
        &mut s,
        "h",
        &["1:*".to_string()],
        &format!("(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({fields})])"),
        1,
        &mut count,
    )
    .expect("headers");
    pipelined_fetch(
        &mut s,
        "b",
        &uid_sets(bounce_uids, 100_000),
        "(UID BODY.PEEK[])",
        1,
        &mut count,
    )
    .expect("bodies");
    let _ = neversent::mailstore::rawfetch::command(&mut s, "f", "EXAMINE Sent").expect("examine");
    pipelined_fetch(
        &mut s,
        "s",
        &["1:*".to_string()],
        &format!("(UID BODY.PEEK[HEADER.FIELDS ({})])", SENT_FIELDS.join(" ")),
        1,
        &mut count,
    )
    .expect("sent");
    (t.elapsed().as_secs_f64(), bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--scan-child") {
        child(args[pos + 1].parse().expect("port"), &args[pos + 2], &args[pos + 3]);
        return;
    }
    let n: usize = args.iter().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let n_bounces = n / 100;
    let t0 = Instant::now();
    let mut b = builder();
    let mut bounce_count = 0;
    for i in 0..n {
        if i % 100 == 50 {
            // 1 in 10 bounces is genuine.
            let msg = bounce(i, bounce_count % 10 == 0);
            bounce_count += 1;
            b = b.message("INBOX", &msg, "S");
        } else {
            b = b.message("INBOX", &support::synthetic(i), "S");
        }
    }
    for i in 0..n / 5 {
        b = b.message("Sent", &sent(i), "S");
    }
    let d = b.start();
    println!(
        "loaded {n} inbox messages ({n_bounces} bounces) and {} sent as Maildir files in {:.1?}",
        n / 5,
        t0.elapsed()
    );

    // Which UIDs are the bounces (for the floor; not timed), and warm Dovecot's index.
    let mut raw = d.raw_session();
    raw.examine("INBOX").expect("examine");
    let mut bounce_uids: Vec<u32> =
        raw.uid_search("FROM MAILER-DAEMON").expect("search").into_iter().collect();
    bounce_uids.sort_unstable();
    assert_eq!(bounce_uids.len(), n_bounces, "bounces found by search");
    drop(raw);
    let _ = floor(&d, &bounce_uids);

    let mut floors = Vec::new();
    let mut floor_bytes = 0;
    for _ in 0..3 {
        let (s, b) = floor(&d, &bounce_uids);
        floors.push(s);
        floor_bytes = b;
    }
    floors.sort_by(f64::total_cmp);

    let exe = std::env::current_exe().expect("exe");
    let mut runs = Vec::new();
    for _ in 0..3 {
        let cache = tempfile::tempdir().expect("cache dir");
        let out = std::process::Command::new(&exe)
            .arg("--scan-child")
            .arg(d.imaps_port.to_string())
            .arg(d.cert_path())
            .arg(cache.path())
            .output()
            .expect("child");
        assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let get = |k: &str| -> String {
            text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or("?").to_string()
        };
        runs.push((
            get("scan_seconds").parse::<f64>().unwrap_or(f64::NAN),
            text.clone(),
            get("scan_bytes"),
        ));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (scan_s, text, scan_bytes) = &runs[1];
    let get = |k: &str| -> String {
        text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or("?").to_string()
    };
    let floor_s = floors[1];
    let scan_bytes: f64 = scan_bytes.parse().unwrap_or(f64::NAN);
    println!("scan of {n} inbox + {} sent messages (median of 3):", n / 5);
    println!("  NeverSent scan (connect, folders, inbox headers, candidate bodies, Sent, verdicts): {scan_s:.3} s");
    println!("  raw floor (one pipelined connection: inbox headers, bounce bodies, Sent headers):   {floor_s:.3} s");
    println!("  ratio: {:.2}x (goal <= 1.3x)", scan_s / floor_s);
    println!(
        "  bytes fetched: {scan_bytes:.0} vs minimum {floor_bytes}: {:.3}x (goal <= 1.1x)",
        scan_bytes / floor_bytes as f64
    );
    println!(
        "  bodies fetched (prefilter candidates): {} for {n_bounces} bounces",
        get("candidates")
    );
    println!(
        "  found: {} bounces, {} backscatter, {} genuine; Sent searched per bounce: {}",
        get("scan_items"),
        get("backscatter"),
        get("genuine"),
        get("sent_searched")
    );
    println!(
        "  peak RSS of the scanning process: {:.1} MB (goal <= 200 MB)",
        get("peak_rss_kib").parse::<f64>().unwrap_or(f64::NAN) / 1024.0
    );
    println!(
        "  rescan with no new mail: {} s, headers fetched {}, bodies fetched {}, Sent headers fetched {}, message bytes fetched {} (goal: 0)",
        get("rescan_seconds"),
        get("rescan_headers"),
        get("rescan_bodies"),
        get("rescan_sent_headers"),
        get("rescan_bytes")
    );
}
