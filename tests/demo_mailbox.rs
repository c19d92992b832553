//! Every message of the bundled demo mailbox must get the `kind` (and, where
//! given, the original Message-ID) its MANIFEST.tsv states.
//!
//! Directory: `$NEVERSENT_DEMO`, default `assets/demo` (in the main
//! crate: `assets/demo`).  MANIFEST.tsv columns: folder, filename (relative to
//! the demo directory), kind, verdict, original_message_id ("-" for none),
//! description.

use std::path::PathBuf;

use neversent::bounce;

fn demo_dir() -> PathBuf {
    std::env::var_os("NEVERSENT_DEMO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo")))
}

#[test]
fn demo_mailbox_kinds_match_manifest() {
    let dir = demo_dir();
    let manifest = match std::fs::read_to_string(dir.join("MANIFEST.tsv")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("demo mailbox not found at {} ({}); skipped", dir.display(), e);
            return;
        }
    };
    let mut checked = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for (n, line) in manifest.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(kind)) = (cols.get(1), cols.get(2)) else {
            failures.push(format!("MANIFEST.tsv line {}: too few columns", n + 1));
            continue;
        };
        let raw = match std::fs::read(dir.join(file)) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {}", file, e));
                continue;
            }
        };
        checked += 1;
        let a = bounce::analyze(&raw);
        let got = bounce::kind_name(&a.kind);
        if got != *kind {
            failures.push(format!(
                "{}: kind expected {}, got {} (evidence: {:?})",
                file, kind, got, a.evidence
            ));
        }
        if let Some(id) = cols.get(4).filter(|id| **id != "-" && !id.is_empty()) {
            if a.original.message_id.as_deref() != Some(*id) {
                failures.push(format!(
                    "{}: message_id expected {}, got {:?}",
                    file, id, a.original.message_id
                ));
            }
        }
    }
    assert!(checked > 0, "no messages listed in {}", dir.join("MANIFEST.tsv").display());
    assert!(
        failures.is_empty(),
        "{} of {} demo messages mismatch:\n{}",
        failures.len(),
        checked,
        failures.join("\n")
    );
    eprintln!("{} demo messages OK", checked);
}
