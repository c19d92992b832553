//! Benchmark: fetch the header fields the scan needs for N inbox messages through the store,
//! against the floor — the same fields with one raw pipelined `UID FETCH 1:*` on a bare TLS
//! socket. Prints both times and the ratio (goal: ≤ 1.3×).
//!
//! `cargo bench --bench fetch_headers [-- N]` (default N = 100000). Needs Dovecot (scripts/test
//! installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use neversent::mailstore::imap::{ImapStore, Security};
use neversent::mailstore::MailStore;
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};
use support::dovecot::{builder, Dovecot, PASSWORD, USER};

const FIELDS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Return-Path",
    "Content-Type",
    "Auto-Submitted",
    "X-Failed-Recipients",
    "Precedence",
    "X-Autoreply",
];

fn via_store(d: &Dovecot) -> (Duration, usize, u64) {
    let start = Instant::now();
    let mut store = ImapStore::connect(&d.config(Security::Implicit)).expect("connect");
    let (_, uids) = store.uids("INBOX").expect("uids");
    let mut n = 0;
    store
        .fetch_headers("INBOX", &uids, FIELDS, &mut |batch| {
            n += batch.len();
            ControlFlow::Continue(())
        })
        .expect("fetch");
    let t = start.elapsed();
    (t, n, store.bytes_fetched())
}

fn raw_floor(d: &Dovecot) -> (Duration, usize) {
    let start = Instant::now();
    let stream = d.tls_stream();
    let mut r = BufReader::with_capacity(1 << 16, stream);
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).expect("greeting");
    let cmd = format!(
        "a LOGIN \"{USER}\" \"{PASSWORD}\"\r\nb EXAMINE INBOX\r\nc UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])\r\n",
        FIELDS.join(" ")
    );
    r.get_mut().write_all(cmd.as_bytes()).expect("write");
    let mut fetched = 0;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).expect("read") == 0 {
            panic!("connection closed");
        }
        if line.starts_with(b"* ") && line.windows(7).any(|w| w == b" FETCH ") {
            fetched += 1;
        }
        // Skip literals: "{123}\r\n" at the end of a line announces 123 bytes.
        if line.ends_with(b"}\r\n") {
            if let Some(open) = line.iter().rposition(|&b| b == b'{') {
                let n: usize =
                    String::from_utf8_lossy(&line[open + 1..line.len() - 3]).parse().unwrap_or(0);
                let mut buf = vec![0u8; n];
                std::io::Read::read_exact(&mut r, &mut buf).expect("literal");
            }
        }
        if line.starts_with(b"c OK") {
            break;
        }
        if line.starts_with(b"c NO") || line.starts_with(b"c BAD") {
            panic!("fetch failed: {}", String::from_utf8_lossy(&line));
        }
    }
    (start.elapsed(), fetched)
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let t0 = Instant::now();
    let msgs: Vec<Vec<u8>> = (0..n).map(support::synthetic).collect();
    let mut b = builder();
    for m in &msgs {
        b = b.message("INBOX", m, "S");
    }
    let d = b.start();
    drop(msgs);
    println!("loaded {n} messages as Maildir files in {:.2?}", t0.elapsed());
    // Warm up: Dovecot indexes the new Maildir on first access.
    let t = Instant::now();
    let (_, warm) = raw_floor(&d);
    assert_eq!(warm, n);
    println!("first access (Dovecot indexing + fetch): {:.2?}", t.elapsed());

    let mut store_times = Vec::new();
    let mut raw_times = Vec::new();
    let mut bytes = 0;
    for _ in 0..3 {
        let (t, got, b) = via_store(&d);
        assert_eq!(got, n);
        bytes = b;
        store_times.push(t);
        let (t, got) = raw_floor(&d);
        assert_eq!(got, n);
        raw_times.push(t);
    }
    store_times.sort();
    raw_times.sort();
    let s = store_times[1];
    let r = raw_times[1];
    println!("header fetch of {n} messages ({} fields), median of 3:", FIELDS.len());
    println!("  through the store (connect + UID SEARCH + chunked UID FETCH + parse): {s:.2?}");
    println!("  raw pipelined UID FETCH 1:* floor (connect + login + fetch):          {r:.2?}");
    println!("  ratio store/floor: {:.2}x (goal <= 1.3x)", s.as_secs_f64() / r.as_secs_f64());
    println!("  header bytes fetched through the store: {bytes}");
}
