//! The bundled demo mailbox (assets/demo, a Maildir++ tree), built into the binary and copied to
//! a fresh temporary directory each time, so that scanning, moving to Trash and undo really run
//! on it without touching the original.

use include_dir::{include_dir, Dir, DirEntry};
use std::path::Path;

static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

/// The address the demo mailbox belongs to.
pub const DEMO_ADDRESS: &str = "alex@example.org";

/// Files that describe the demo or keep empty folders in git, not mail.
fn is_mail(name: &str) -> bool {
    name != "MANIFEST.tsv" && name != ".keep" && !name.starts_with("neversent-uidlist")
}

/// Copies the demo into a new temporary directory (removed when the returned value drops).
pub fn copy_to_temp() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("neversent-demo-").tempdir()?;
    copy_into(dir.path())?;
    Ok(dir)
}

/// Copies the demo's folders and messages into `root` (which must exist).
pub fn copy_into(root: &Path) -> std::io::Result<()> {
    fn walk(dir: &Dir<'_>, root: &Path) -> std::io::Result<()> {
        for entry in dir.entries() {
            match entry {
                DirEntry::Dir(d) => {
                    std::fs::create_dir_all(root.join(d.path()))?;
                    walk(d, root)?;
                }
                DirEntry::File(f) => {
                    let name = f.path().file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if is_mail(name) {
                        let to = root.join(f.path());
                        if let Some(parent) = to.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        std::fs::write(to, f.contents())?;
                    }
                }
            }
        }
        Ok(())
    }
    walk(&DEMO, root)?;
    // Every Maildir folder needs cur/, new/ and tmp/, even when git kept none of them.
    for folder in ["", ".Sent", ".Trash", ".Drafts"] {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(root.join(folder).join(sub))?;
        }
    }
    Ok(())
}
