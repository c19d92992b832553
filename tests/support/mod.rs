//! Shared by the integration tests: a private Dovecot per test, the demo mailbox, a proxy
//! that cuts connections.
#![allow(dead_code)]

pub mod dovecot;
pub mod keyring;
pub mod proxy;
#[cfg(feature = "gui")]
pub mod ui;

use std::path::{Path, PathBuf};

/// An ordinary message for load tests (varied senders, sizes and times).
pub fn synthetic(i: usize) -> Vec<u8> {
    let body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(8 + i % 20);
    format!(
        "Return-Path: <sender{s}@example.net>\r\nReceived: from mx{s}.example.net (mx{s}.example.net [192.0.2.{r}])\r\n\tby mail.example.org with ESMTPS id {i:08x}\r\n\tfor <alex@example.org>; Tue, 3 Nov 2026 10:{m:02}:00 +0000\r\nFrom: Sender {s} <sender{s}@example.net>\r\nTo: alex@example.org\r\nSubject: Message number {i} about things\r\nDate: Tue, 03 Nov 2026 10:{m:02}:00 +0000\r\nMessage-ID: <{i}.bench@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        s = i % 977,
        r = i % 250,
        m = i % 60,
    )
    .into_bytes()
}

/// One message of the bundled demo mailbox with what MANIFEST.tsv says about it.
pub struct DemoMessage {
    pub folder: String,
    pub file: String,
    pub kind: String,
    pub verdict: String,
    pub original_message_id: Option<String>,
    pub raw: Vec<u8>,
}

pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join("demo")
}

/// The demo mailbox, from its manifest.
pub fn demo() -> Vec<DemoMessage> {
    let dir = demo_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("demo manifest");
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 {
            continue;
        }
        let raw = std::fs::read(dir.join(cols[1])).expect("demo message");
        out.push(DemoMessage {
            folder: cols[0].to_string(),
            file: cols[1].to_string(),
            kind: cols[2].to_string(),
            verdict: cols[3].to_string(),
            original_message_id: (cols[4] != "-").then(|| cols[4].to_string()),
            raw,
        });
    }
    assert!(out.len() > 50, "the demo mailbox has {} messages", out.len());
    out
}

/// A Dovecot holding the demo mailbox: its inbox, and its Sent in the layout's Sent folder
/// (or nowhere, with `empty_sent`).
pub fn demo_server(
    b: dovecot::Builder,
    layout: dovecot::Layout,
    empty_sent: bool,
) -> dovecot::Dovecot {
    let mut b = b.layout(layout);
    for m in demo() {
        match m.folder.as_str() {
            "INBOX" => b = b.message("INBOX", &m.raw, ""),
            "Sent" if !empty_sent => b = b.message(layout.sent_shown(), &m.raw, "S"),
            _ => {}
        }
    }
    b.start()
}
