//! The header prefilter must pass every message `analyze` flags: checked on the fixtures, the
//! demo mailbox and, when `$NEVERSENT_CORPUS` names a directory of real mail, on that too.

use std::path::{Path, PathBuf};

use neversent::bounce::{analyze, headers_suggest_bounce, Kind, PREFILTER_HEADERS};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("eml") {
            out.push(p);
        }
    }
}

/// Every regular file (the demo Maildir's messages have no extension), but not its manifest.
fn walk_all(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            walk_all(&p, out);
        } else if !name.starts_with('.')
            && !name.ends_with(".tsv")
            && !name.starts_with("neversent-uidlist")
        {
            out.push(p);
        }
    }
}

/// Only the header block, reduced to the PREFILTER_HEADERS fields (as an IMAP
/// `BODY.PEEK[HEADER.FIELDS (...)]` fetch would return it).
fn prefilter_fields(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    let mut keep = false;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if l.starts_with([' ', '\t']) {
            if keep {
                out.push_str(line);
            }
            continue;
        }
        let name = l.split(':').next().unwrap_or("").trim();
        keep = PREFILTER_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name));
        if keep {
            out.push_str(line);
        }
    }
    out.push_str("\r\n");
    out.into_bytes()
}

#[test]
fn prefilter_is_conservative() {
    let mut files = Vec::new();
    walk(
        &PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces")),
        &mut files,
    );
    if let Some(f) = std::env::var_os("NEVERSENT_FIXTURES") {
        walk(&PathBuf::from(f), &mut files);
    }
    walk_all(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo")), &mut files);
    if let Some(corpus) = std::env::var_os("NEVERSENT_CORPUS") {
        walk(&PathBuf::from(corpus), &mut files);
    }
    assert!(files.len() > 150, "only {} messages found", files.len());
    let mut bad = Vec::new();
    let (mut flagged, mut passed_ham, mut ham) = (0, 0, 0);
    for f in &files {
        let Ok(raw) = std::fs::read(f) else { continue };
        let a = analyze(&raw);
        let fields = prefilter_fields(&raw);
        let pass = headers_suggest_bounce(&fields);
        if a.kind != Kind::NotBounce {
            flagged += 1;
            if !pass || !headers_suggest_bounce(&raw) {
                bad.push(format!("{} ({})", f.display(), a.kind));
            }
        } else {
            ham += 1;
            if pass {
                passed_ham += 1;
            }
        }
    }
    eprintln!(
        "{} flagged messages all checked; prefilter passes {}/{} non-bounces",
        flagged, passed_ham, ham
    );
    assert!(bad.is_empty(), "prefilter rejects messages analyze flags:\n{}", bad.join("\n"));
}
