//! A local Maildir++ tree (as Dovecot, Courier and many tools write it): the top folder is the
//! inbox, `.Name` folders beside `cur/`, `new/`, `tmp/` are the others.
//!
//! Maildir has no UIDs, but acting by UID is a safety rule, so each folder gets a small
//! `neversent-uidlist` file that gives every message file a number that never changes and is
//! never reused (like Dovecot's own `dovecot-uidlist`). Reading never changes a message file;
//! a move is a rename within the same file system, so a message is always in exactly one place.

use super::{
    BodyRecord, FolderInfo, FolderStatus, HeaderRecord, MailStore, MoveMethod, MoveReport, Search,
    StoreError, StoreResult, Uid,
};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

const UIDLIST: &str = "neversent-uidlist";
/// How much of a file is read to find its header.
const HEADER_READ_LIMIT: u64 = 256 * 1024;

pub struct MaildirStore {
    root: PathBuf,
    /// Folder name → its UID table, loaded on first use.
    tables: HashMap<String, UidTable>,
}

#[derive(Debug, Clone)]
struct UidTable {
    uidvalidity: u32,
    next_uid: Uid,
    /// UID → the message file's current path.
    files: BTreeMap<Uid, PathBuf>,
}

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io { path: path.display().to_string(), detail: e.to_string() }
}

/// The part of a Maildir file name that never changes ("1700000000.M1P2.host"), without the
/// ":2,FLAGS" info that changes when flags do.
fn base_name(file_name: &str) -> &str {
    file_name.split_once(":2,").map(|(b, _)| b).unwrap_or(file_name)
}

impl MaildirStore {
    /// Opens the Maildir at `root` (it must have `cur/` or `new/`).
    pub fn open(root: &Path) -> StoreResult<MaildirStore> {
        if !root.join("cur").is_dir() && !root.join("new").is_dir() {
            return Err(StoreError::Io {
                path: root.display().to_string(),
                detail: "not a Maildir (no cur/ or new/ folder)".into(),
            });
        }
        Ok(MaildirStore { root: root.to_path_buf(), tables: HashMap::new() })
    }

    fn folder_dir(&self, folder: &str) -> StoreResult<PathBuf> {
        if folder.eq_ignore_ascii_case("INBOX") {
            return Ok(self.root.clone());
        }
        if folder.is_empty()
            || folder.contains('/')
            || folder.starts_with('.')
            || folder.contains("..")
        {
            return Err(StoreError::NoSuchFolder { folder: folder.to_string() });
        }
        let dir = self.root.join(format!(".{folder}"));
        if dir.join("cur").is_dir() || dir.join("new").is_dir() {
            Ok(dir)
        } else {
            Err(StoreError::NoSuchFolder { folder: folder.to_string() })
        }
    }

    /// Loads (or refreshes) the UID table of `folder` from disk: known files keep their UID,
    /// new files get the next ones in name order, vanished files drop out.
    fn table(&mut self, folder: &str) -> StoreResult<&UidTable> {
        let dir = self.folder_dir(folder)?;
        let list_path = dir.join(UIDLIST);
        // What the list file says.
        let mut uidvalidity = 0u32;
        let mut next_uid: Uid = 1;
        let mut known: HashMap<String, Uid> = HashMap::new();
        if let Ok(text) = fs::read_to_string(&list_path) {
            let mut lines = text.lines();
            if let Some(head) = lines.next() {
                for part in head.split_whitespace() {
                    if let Some(v) = part.strip_prefix('V') {
                        uidvalidity = v.parse().unwrap_or(0);
                    } else if let Some(n) = part.strip_prefix('N') {
                        next_uid = n.parse().unwrap_or(1);
                    }
                }
            }
            for line in lines {
                if let Some((uid, name)) = line.split_once(' ') {
                    if let Ok(uid) = uid.parse::<Uid>() {
                        known.insert(name.to_string(), uid);
                        next_uid = next_uid.max(uid.saturating_add(1));
                    }
                }
            }
        }
        let fresh = uidvalidity == 0;
        if fresh {
            uidvalidity = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as u32)
                .unwrap_or(1)
                .max(1);
            known.clear();
            next_uid = 1;
        }
        // What is on disk.
        let mut on_disk: Vec<(String, PathBuf)> = Vec::new();
        for sub in ["cur", "new"] {
            let Ok(entries) = fs::read_dir(dir.join(sub)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !entry.path().is_file() {
                    continue;
                }
                on_disk.push((base_name(&name).to_string(), entry.path()));
            }
        }
        on_disk.sort();
        let mut files = BTreeMap::new();
        let mut changed = fresh;
        let mut listed: Vec<(Uid, String)> = Vec::with_capacity(on_disk.len());
        for (base, path) in on_disk {
            let uid = match known.get(&base) {
                Some(&uid) => uid,
                None => {
                    changed = true;
                    let uid = next_uid;
                    next_uid += 1;
                    uid
                }
            };
            files.insert(uid, path);
            listed.push((uid, base));
        }
        if listed.len() != known.len() {
            changed = true;
        }
        if changed {
            listed.sort();
            let mut text = format!("V{uidvalidity} N{next_uid}\n");
            for (uid, base) in &listed {
                text.push_str(&format!("{uid} {base}\n"));
            }
            let tmp = dir.join(format!("{UIDLIST}.tmp"));
            // A read-only Maildir still works for this session; its UIDs are then only
            // stable until the program ends.
            if fs::write(&tmp, text).is_ok() {
                let _ = fs::rename(&tmp, &list_path);
            }
        }
        self.tables.insert(folder.to_string(), UidTable { uidvalidity, next_uid, files });
        self.tables
            .get(folder)
            .ok_or_else(|| StoreError::NoSuchFolder { folder: folder.to_string() })
    }
}

/// Reads the header block of a message file (up to the first blank line, bounded).
fn read_header_block(path: &Path) -> StoreResult<Vec<u8>> {
    let file = fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut buf = Vec::new();
    file.take(HEADER_READ_LIMIT).read_to_end(&mut buf).map_err(|e| io_err(path, e))?;
    let end = find_header_end(&buf).unwrap_or(buf.len());
    buf.truncate(end);
    Ok(buf)
}

/// Index just past the blank line that ends the header (CRLF, LF or bare CR line endings).
pub fn find_header_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut line_start = 0;
    while i < buf.len() {
        let (eol_len, is_eol) = match buf[i] {
            b'\r' if buf.get(i + 1) == Some(&b'\n') => (2, true),
            b'\r' | b'\n' => (1, true),
            _ => (1, false),
        };
        if is_eol {
            if i == line_start {
                return Some(i + eol_len);
            }
            line_start = i + eol_len;
        }
        i += eol_len;
    }
    None
}

/// Keeps only the header fields named in `fields` (with their continuation lines), as IMAP's
/// `BODY[HEADER.FIELDS (…)]` does, ending with a blank line.
pub fn select_fields(header: &[u8], fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let trimmed: &[u8] = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.is_empty() {
            break;
        }
        if trimmed[0] == b' ' || trimmed[0] == b'\t' {
            if keep {
                out.extend_from_slice(trimmed);
                out.extend_from_slice(b"\r\n");
            }
            continue;
        }
        keep = match trimmed.iter().position(|&b| b == b':') {
            Some(colon) => {
                let name = String::from_utf8_lossy(&trimmed[..colon]);
                let name = name.trim();
                fields.iter().any(|f| f.eq_ignore_ascii_case(name))
            }
            None => false,
        };
        if keep {
            out.extend_from_slice(trimmed);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

impl MailStore for MaildirStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn search(&mut self, folder: &str, query: &Search) -> StoreResult<Vec<Uid>> {
        let (fields, needle): (&[&str], String) = match query {
            Search::MessageId(id) => (&["Message-ID"], id.to_lowercase()),
            Search::Recipient(a) => (&["To", "Cc", "Bcc"], a.to_lowercase()),
        };
        let files = self.table(folder)?.files.clone();
        let mut out = Vec::new();
        for (uid, path) in files {
            let Ok(header) = read_header_block(&path) else { continue };
            let selected = String::from_utf8_lossy(&select_fields(&header, fields)).to_lowercase();
            if selected.contains(&needle) {
                out.push(uid);
            }
        }
        Ok(out)
    }

    fn list_folders(&mut self) -> StoreResult<Vec<FolderInfo>> {
        let mut folders = vec![FolderInfo {
            name: "INBOX".into(),
            display_name: "INBOX".into(),
            delimiter: Some(".".into()),
            special_use: None,
            selectable: true,
        }];
        let entries = fs::read_dir(&self.root).map_err(|e| io_err(&self.root, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join("cur").is_dir() || e.path().join("new").is_dir())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix('.').filter(|s| !s.is_empty() && *s != ".").map(str::to_string)
            })
            .collect();
        names.sort();
        for name in names {
            folders.push(FolderInfo {
                display_name: super::utf7::decode(&name),
                name,
                delimiter: Some(".".into()),
                special_use: None,
                selectable: true,
            });
        }
        Ok(folders)
    }

    fn examine(&mut self, folder: &str) -> StoreResult<FolderStatus> {
        let t = self.table(folder)?;
        Ok(FolderStatus {
            uidvalidity: t.uidvalidity,
            exists: t.files.len() as u32,
            uid_next: Some(t.next_uid),
        })
    }

    fn uids(&mut self, folder: &str) -> StoreResult<(FolderStatus, Vec<Uid>)> {
        let t = self.table(folder)?;
        let status = FolderStatus {
            uidvalidity: t.uidvalidity,
            exists: t.files.len() as u32,
            uid_next: Some(t.next_uid),
        };
        Ok((status, t.files.keys().copied().collect()))
    }

    fn fetch_headers(
        &mut self,
        folder: &str,
        uids: &[Uid],
        fields: &[&str],
        on_batch: &mut dyn FnMut(Vec<HeaderRecord>) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        let files = match self.tables.get(folder) {
            Some(t) => t.files.clone(),
            None => self.table(folder)?.files.clone(),
        };
        for chunk in uids.chunks(2000) {
            let mut batch = Vec::with_capacity(chunk.len());
            for uid in chunk {
                let Some(path) = files.get(uid) else { continue };
                // A file that vanished since the listing is simply not there any more.
                let Ok(meta) = fs::metadata(path) else { continue };
                let header = read_header_block(path)?;
                batch.push(HeaderRecord {
                    uid: *uid,
                    size: meta.len().min(u32::MAX as u64) as u32,
                    headers: select_fields(&header, fields),
                });
            }
            if on_batch(batch).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn fetch_bodies(
        &mut self,
        folder: &str,
        uids: &[Uid],
        max_bytes: u32,
    ) -> StoreResult<Vec<BodyRecord>> {
        let files = match self.tables.get(folder) {
            Some(t) => t.files.clone(),
            None => self.table(folder)?.files.clone(),
        };
        let mut out = Vec::new();
        for uid in uids {
            let Some(path) = files.get(uid) else { continue };
            let Ok(file) = fs::File::open(path) else { continue };
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let mut raw = Vec::new();
            file.take(max_bytes as u64).read_to_end(&mut raw).map_err(|e| io_err(path, e))?;
            out.push(BodyRecord {
                uid: *uid,
                size: size.min(u32::MAX as u64) as u32,
                truncated: size > raw.len() as u64,
                raw,
            });
        }
        Ok(out)
    }

    fn move_messages(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[Uid],
        trash: &str,
    ) -> StoreResult<MoveReport> {
        super::check_distinct(folder, trash)?;
        let source = self.table(folder)?.clone();
        if source.uidvalidity != uidvalidity {
            return Err(StoreError::UidValidityChanged {
                folder: folder.to_string(),
                expected: uidvalidity,
                found: source.uidvalidity,
            });
        }
        let trash_dir = self.folder_dir(trash)?;
        let mut report = MoveReport {
            method: MoveMethod::Move,
            to: trash.to_string(),
            moved: Vec::new(),
            missing: Vec::new(),
            uid_map: Vec::new(),
            left_flagged: Vec::new(),
        };
        let mut sorted = uids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut moved_names = Vec::new();
        for uid in sorted {
            let Some(path) = source.files.get(&uid) else {
                report.missing.push(uid);
                continue;
            };
            let Some(file_name) = path.file_name() else { continue };
            let mut name = file_name.to_string_lossy().into_owned();
            // A message from new/ goes to cur/ and so needs the info suffix.
            if !name.contains(":2,") {
                name.push_str(":2,");
            }
            let target = trash_dir.join("cur").join(&name);
            match fs::rename(path, &target) {
                Ok(()) => {
                    report.moved.push(uid);
                    moved_names.push((uid, base_name(&name).to_string()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.missing.push(uid),
                Err(e) => return Err(io_err(path, e)),
            }
        }
        // Give the moved messages their UIDs in Trash (for undo).
        self.table(folder)?;
        let trash_table = self.table(trash)?;
        let by_base: HashMap<String, Uid> = trash_table
            .files
            .iter()
            .filter_map(|(uid, p)| {
                p.file_name().map(|n| (base_name(&n.to_string_lossy()).to_string(), *uid))
            })
            .collect();
        for (uid, base) in moved_names {
            if let Some(&t) = by_base.get(&base) {
                report.uid_map.push((uid, t));
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_end_in_every_line_ending() {
        assert_eq!(find_header_end(b"A: 1\r\nB: 2\r\n\r\nbody"), Some(14));
        assert_eq!(find_header_end(b"A: 1\nB: 2\n\nbody"), Some(11));
        assert_eq!(find_header_end(b"A: 1\rB: 2\r\rbody"), Some(11));
        assert_eq!(find_header_end(b"A: 1\nB: 2"), None);
    }

    #[test]
    fn selects_fields_with_continuations() {
        let h = b"From: a@example.org\nSubject: one\n two\nX-Other: x\nsubject: three\n\nbody";
        let got = select_fields(h, &["Subject"]);
        assert_eq!(got, b"Subject: one\r\n two\r\nsubject: three\r\n\r\n".to_vec());
    }
}
