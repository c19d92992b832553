//! The scan cache: what each inbox message turned out to be, and the Sent index, keyed by
//! account + mailbox + UIDVALIDITY, so that a rescan fetches only new messages. It holds no
//! secret: the account key is "user@host:port" (or the Maildir path), hashed for the file name.

use super::ScanItem;
use crate::mailstore::Uid;
use crate::triage::SentMessage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Bump when the analysis changes what it finds, so old caches are read again.
const VERSION: u32 = 1;

/// Where a cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLocation {
    pub dir: PathBuf,
    /// Identifies the account: "user@host:port" or a Maildir path. Never a secret.
    pub account: String,
}

impl CacheLocation {
    /// The cache of the directories-crate cache dir (XDG_CACHE_HOME on Linux).
    pub fn standard(account: &str) -> Option<CacheLocation> {
        let dirs = directories::ProjectDirs::from("org", "NeverSent", "NeverSent")?;
        Some(CacheLocation { dir: dirs.cache_dir().to_path_buf(), account: account.to_string() })
    }

    fn file(&self, mailbox: &str, what: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(self.account.as_bytes());
        h.update([0]);
        h.update(mailbox.as_bytes());
        let digest = h.finalize();
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.{what}.json"))
    }
}

/// What is known about an inbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboxCache {
    pub uidvalidity: u32,
    /// UIDs known not to be bounces (stored as ranges).
    #[serde(with = "uid_ranges")]
    pub not_bounces: BTreeSet<Uid>,
    pub bounces: BTreeMap<Uid, ScanItem>,
}

impl InboxCache {
    pub fn load(loc: &CacheLocation, mailbox: &str) -> InboxCache {
        load_file(&loc.file(mailbox, "inbox"))
    }

    pub fn save(&self, loc: &CacheLocation, mailbox: &str) -> std::io::Result<()> {
        save_file(&loc.file(mailbox, "inbox"), self)
    }

    pub fn knows(&self, uid: Uid) -> bool {
        self.not_bounces.contains(&uid) || self.bounces.contains_key(&uid)
    }

    /// Forgets the messages that are no longer in the mailbox.
    pub fn retain(&mut self, present: &HashSet<Uid>) {
        self.not_bounces.retain(|u| present.contains(u));
        self.bounces.retain(|u, _| present.contains(u));
    }
}

/// The Sent index of one folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SentCache {
    pub uidvalidity: u32,
    pub messages: BTreeMap<Uid, SentMessage>,
}

impl SentCache {
    pub fn load(loc: &CacheLocation, mailbox: &str) -> SentCache {
        load_file(&loc.file(mailbox, "sent"))
    }

    pub fn save(&self, loc: &CacheLocation, mailbox: &str) -> std::io::Result<()> {
        save_file(&loc.file(mailbox, "sent"), self)
    }
}

/// A cache file: the format version and the data.
#[derive(Serialize)]
struct Stored<'a, T> {
    version: u32,
    data: &'a T,
}

#[derive(Deserialize)]
struct Loaded<T> {
    version: u32,
    data: T,
}

/// Reads a cache file; a missing, damaged or older one is an empty cache.
fn load_file<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> T {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Loaded<T>>(&bytes).ok())
        .filter(|l| l.version == VERSION)
        .map(|l| l.data)
        .unwrap_or_default()
}

fn save_file<T: Serialize>(path: &Path, data: &T) -> std::io::Result<()> {
    write_json(path, &Stored { version: VERSION, data })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

mod uid_ranges {
    use super::Uid;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeSet;

    pub fn serialize<S: Serializer>(set: &BTreeSet<Uid>, s: S) -> Result<S::Ok, S::Error> {
        let mut ranges: Vec<(Uid, Uid)> = Vec::new();
        for &u in set {
            match ranges.last_mut() {
                Some((_, end)) if end.checked_add(1) == Some(u) => *end = u,
                _ => ranges.push((u, u)),
            }
        }
        ranges.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<Uid>, D::Error> {
        let ranges: Vec<(Uid, Uid)> = Vec::deserialize(d)?;
        let mut set = BTreeSet::new();
        for (a, b) in ranges {
            // A damaged cache must not make us allocate without bound.
            if b < a || b - a > 10_000_000 {
                continue;
            }
            set.extend(a..=b);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keys_by_account_and_mailbox() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loc = CacheLocation {
            dir: dir.path().to_path_buf(),
            account: "alex@imap.example.org:993".into(),
        };
        let mut c = InboxCache { uidvalidity: 7, ..Default::default() };
        c.not_bounces.extend([1, 2, 3, 5, 9, 10]);
        c.save(&loc, "INBOX").expect("save");
        let back = InboxCache::load(&loc, "INBOX");
        assert_eq!(back.uidvalidity, 7);
        assert_eq!(back.not_bounces, c.not_bounces);
        assert_eq!(InboxCache::load(&loc, "Other").uidvalidity, 0);
        let other = CacheLocation { account: "sam@imap.example.org:993".into(), ..loc.clone() };
        assert_eq!(InboxCache::load(&other, "INBOX").uidvalidity, 0);
        // The file name does not reveal the account.
        for e in std::fs::read_dir(dir.path()).expect("dir").flatten() {
            assert!(!e.file_name().to_string_lossy().contains("alex"));
        }
        // A damaged cache is ignored, not trusted.
        let f = loc.file("INBOX", "inbox");
        std::fs::write(&f, b"{not json").expect("write");
        assert_eq!(InboxCache::load(&loc, "INBOX").uidvalidity, 0);
    }
}
