//! `neversent analyze`: files, directories, mbox files, JSON Lines and the table, and one bad
//! input being a warning rather than the end of the run.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces")
}

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neversent"))
        .arg("analyze")
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(out: &str) -> Vec<Value> {
    out.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

#[test]
fn a_directory_is_read_recursively_as_json_lines() {
    let dir = fixtures().join("postfix");
    let (code, out, err) = run(&[dir.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 0, "{err}");
    let objs = lines(&out);
    let emls = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .count();
    assert_eq!(objs.len(), emls);
    for o in &objs {
        for key in ["path", "index", "kind", "original", "status", "diagnostic", "evidence"] {
            assert!(o.get(key).is_some(), "missing {key}: {o}");
        }
        for key in ["message_id", "recipients", "from", "subject", "date"] {
            assert!(o["original"].get(key).is_some(), "missing original.{key}: {o}");
        }
        assert_eq!(o["index"], 0);
        assert_eq!(o["kind"], "delivery_failure", "{o}");
        let id = o["original"]["message_id"].as_str().unwrap_or("");
        assert!(!id.starts_with('<') && !id.ends_with('>'), "bare id: {id}");
    }
}

#[test]
fn an_mbox_is_split_and_a_bad_path_is_only_a_warning() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mbox = tmp.path().join("bounces.mbox");
    let mut text = Vec::new();
    let picks = ["rfc3464/001.eml", "not-bounce/001.eml", "exim/001.eml"];
    for p in picks {
        text.extend_from_slice(b"From MAILER-DAEMON Tue Nov  3 10:00:00 2026\n");
        let raw = std::fs::read(fixtures().join(p)).expect("fixture");
        // mbox escaping of body lines that start with "From ".
        for line in String::from_utf8_lossy(&raw).replace("\r\n", "\n").lines() {
            if line.starts_with("From ") {
                text.push(b'>');
            }
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        text.push(b'\n');
    }
    std::fs::write(&mbox, text).expect("write mbox");
    let missing = tmp.path().join("no-such-file.eml");
    let (code, out, err) = run(&[mbox.as_os_str(), missing.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 0, "one unreadable file is not the end of the run: {err}");
    assert!(err.contains("no-such-file.eml"), "a warning names the file: {err}");
    let objs = lines(&out);
    assert_eq!(objs.len(), 3, "{out}");
    let kinds: Vec<&str> = objs.iter().map(|o| o["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, vec!["delivery_failure", "not_bounce", "delivery_failure"]);
    let indexes: Vec<u64> = objs.iter().map(|o| o["index"].as_u64().unwrap_or(99)).collect();
    assert_eq!(indexes, vec![0, 1, 2]);

    // Without --json: a table with one row per message.
    let (code, out, _) = run(&[mbox.as_os_str()]);
    assert_eq!(code, 0);
    assert!(out.lines().filter(|l| l.contains("delivery_failure")).count() >= 2, "{out}");
}

/// An mbox whose lines end in bare CRs (or CRLF, or CR CR LF) is split at its "From " lines like an LF one,
/// and each message gets the same answer as the LF mbox.
#[test]
fn an_mbox_with_cr_or_crlf_line_endings_is_split_the_same() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let picks = ["rfc3464/001.eml", "not-bounce/001.eml", "postfix/001.eml"];
    let mut results = Vec::new();
    for (i, eol) in ["\n", "\r", "\r\n", "\r\r\n"].into_iter().enumerate() {
        let mut text = String::new();
        for p in picks {
            text.push_str("From MAILER-DAEMON Tue Nov  3 10:00:00 2026");
            text.push_str(eol);
            let raw = std::fs::read(fixtures().join(p)).expect("fixture");
            for line in String::from_utf8_lossy(&raw).replace("\r\n", "\n").lines() {
                if line.starts_with("From ") {
                    text.push('>');
                }
                text.push_str(line);
                text.push_str(eol);
            }
            text.push_str(eol);
        }
        let mbox = tmp.path().join(format!("bounces-{i}.mbox"));
        std::fs::write(&mbox, text).expect("write mbox");
        let (code, out, err) = run(&[mbox.as_os_str(), "--json".as_ref()]);
        assert_eq!(code, 0, "{err}");
        let objs = lines(&out);
        assert_eq!(objs.len(), 3, "{eol:?}: {out}");
        let got: Vec<(String, String)> = objs
            .iter()
            .map(|o| (o["kind"].to_string(), o["original"]["message_id"].to_string()))
            .collect();
        results.push(got);
    }
    assert_eq!(results[0][0].0, "\"delivery_failure\"");
    assert_eq!(results[0][1].0, "\"not_bounce\"");
    assert_eq!(results[0], results[1], "bare CR");
    assert_eq!(results[0], results[2], "CRLF");
    assert_eq!(results[0], results[3], "CR CR LF");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["--frobnicate".as_ref()]);
    assert_eq!(code, 2);
}

/// A forwarded message inside a forwarded message whose inner multipart boundaries start with
/// "--": mail-parser 0.11.9 panics on it. The engine walks the MIME tree itself (and catches any
/// panic as a warning about that one message): the message is analysed, nobody sees a panic.
#[test]
fn a_message_that_crashes_mail_parser_is_analysed_without_a_panic() {
    let m = include_str!("fixtures/mime/nested-forward.eml");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("nested-forward.eml");
    std::fs::write(&path, m).expect("write");
    let (code, out, err) = run(&[path.as_os_str(), "--json".as_ref()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("panicked"), "a panic reached the user: {err}");
    let objs = lines(&out);
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["kind"], "not_bounce");
    // Analysed for real, not given up on: no "internal error" warning.
    let a = neversent::bounce::analyze(m.as_bytes());
    assert!(a.warnings.iter().all(|w| !w.contains("internal error")), "{a:?}");
    assert!(a.evidence.is_empty(), "{a:?}");
}
