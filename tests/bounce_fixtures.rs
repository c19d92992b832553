//! Runs the engine over hand-made fixture messages: every `NNN.eml` with an
//! `NNN.expected.json` beside it.  Only the fields present in the expected
//! file are compared: `kind` exactly, `original.message_id` exactly,
//! `original.recipients` as a case-insensitive set, `original.subject`
//! exactly, `status` exactly.  A mismatching case gets `NNN.actual.json`
//! written beside it; all mismatches are reported together.
//!
//! Directory: `$NEVERSENT_FIXTURES`, default `tests/fixtures/bounces`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use neversent::bounce::{self, Analysis};
use serde_json::{json, Value};

fn fixtures_dir() -> PathBuf {
    std::env::var_os("NEVERSENT_FIXTURES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces"))
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("eml") {
            out.push(p);
        }
    }
}

fn actual_json(a: &Analysis) -> Value {
    json!({
        "kind": bounce::kind_name(&a.kind),
        "original": {
            "message_id": a.original.message_id,
            "recipients": a.original.recipients,
            "from": a.original.from,
            "subject": a.original.subject,
            "date": a.original.date,
        },
        "status": a.status,
        "diagnostic": a.diagnostic,
        "evidence": a.evidence,
        "warnings": a.warnings,
    })
}

fn compare(expected: &Value, a: &Analysis) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(k) = expected.get("kind") {
        if k.as_str() != Some(bounce::kind_name(&a.kind)) {
            errs.push(format!("kind: expected {}, got {}", k, bounce::kind_name(&a.kind)));
        }
    }
    if let Some(s) = expected.get("status") {
        let got = a.status.as_deref();
        if s.as_str() != got {
            errs.push(format!("status: expected {}, got {:?}", s, got));
        }
    }
    if let Some(o) = expected.get("original") {
        if let Some(id) = o.get("message_id") {
            let got = a.original.message_id.as_deref();
            if id.as_str() != got {
                errs.push(format!("message_id: expected {}, got {:?}", id, got));
            }
        }
        if let Some(r) = o.get("recipients").and_then(|r| r.as_array()) {
            let exp: BTreeSet<String> =
                r.iter().filter_map(|x| x.as_str()).map(|x| x.to_lowercase()).collect();
            let got: BTreeSet<String> =
                a.original.recipients.iter().map(|x| x.to_lowercase()).collect();
            if exp != got {
                errs.push(format!("recipients: expected {:?}, got {:?}", exp, got));
            }
        }
        if let Some(s) = o.get("subject") {
            let got = a.original.subject.as_deref();
            if s.as_str() != got {
                errs.push(format!("subject: expected {}, got {:?}", s, got));
            }
        }
    }
    errs
}

#[test]
fn fixtures_match_expected() {
    let dir = fixtures_dir();
    let mut emls = Vec::new();
    walk(&dir, &mut emls);
    let mut ran = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for eml in &emls {
        let exp_path = eml.with_extension("expected.json");
        let Ok(exp_text) = std::fs::read_to_string(&exp_path) else { continue };
        let expected: Value = match serde_json::from_str(&exp_text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: bad expected.json: {}", exp_path.display(), e));
                continue;
            }
        };
        let raw = match std::fs::read(eml) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {}", eml.display(), e));
                continue;
            }
        };
        ran += 1;
        let a = bounce::analyze(&raw);
        let errs = compare(&expected, &a);
        let actual_path = eml.with_extension("actual.json");
        if errs.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            let _ = std::fs::write(
                &actual_path,
                serde_json::to_string_pretty(&actual_json(&a)).unwrap_or_default(),
            );
            failures.push(format!(
                "{}:\n    {}",
                eml.strip_prefix(&dir).unwrap_or(eml).display(),
                errs.join("\n    ")
            ));
        }
    }
    assert!(ran > 0, "no fixtures found under {}", dir.display());
    if !failures.is_empty() {
        panic!("{} of {} fixtures mismatch:\n{}", failures.len(), ran, failures.join("\n"));
    }
    eprintln!("{} fixtures OK", ran);
}
