//! Where mail lives: an IMAP account or a local Maildir, behind one interface.
//!
//! Every implementation follows the safety rules of the design: reading never changes a
//! message (EXAMINE / BODY.PEEK on IMAP, plain reads on disk), and the only thing that ever
//! changes the mailbox is [`MailStore::move_messages`], which acts by UID, checks UIDVALIDITY
//! first and never removes a message that is not safely in Trash.

mod error;
pub mod imap;
pub mod maildir;
pub mod rawfetch;
pub mod roles;
pub mod utf7;

pub use error::{StoreError, StoreResult};
pub use roles::{FolderRoles, Role, RoleOverrides};

use std::ops::ControlFlow;

/// An IMAP UID (or the Maildir store's stable equivalent).
pub type Uid = u32;

/// A folder as the store lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The name to use in commands (on IMAP: as the server spells it, modified UTF-7).
    pub name: String,
    /// The name for people (modified UTF-7 decoded).
    pub display_name: String,
    /// The hierarchy separator, if the server has one.
    pub delimiter: Option<String>,
    /// The special use the server announced (RFC 6154), if any.
    pub special_use: Option<Role>,
    /// False for `\Noselect` folders that hold no messages.
    pub selectable: bool,
}

/// What a folder looks like right now, read without changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    pub uidvalidity: u32,
    pub exists: u32,
    pub uid_next: Option<Uid>,
}

/// The chosen header fields and the size of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRecord {
    pub uid: Uid,
    pub size: u32,
    /// The raw header lines that were asked for (with their line endings), ending in a blank line.
    pub headers: Vec<u8>,
}

/// One message's raw bytes, at most the asked size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRecord {
    pub uid: Uid,
    pub size: u32,
    pub raw: Vec<u8>,
    /// True when `raw` holds only the first part of a larger message.
    pub truncated: bool,
}

/// How a move to Trash was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveMethod {
    /// `UID MOVE` (RFC 6851), or a rename on disk.
    Move,
    /// `UID COPY` + `UID STORE \Deleted` + `UID EXPUNGE` of exactly those UIDs (UIDPLUS).
    CopyStoreExpunge,
    /// `UID COPY` + `UID STORE \Deleted`, and no expunge: the server lacks UIDPLUS, and a plain
    /// EXPUNGE would also remove messages that another client marked deleted.
    CopyAndFlag,
}

/// What a move to Trash did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveReport {
    pub method: MoveMethod,
    /// The folder the messages went to.
    pub to: String,
    /// The UIDs that are now in Trash (for `CopyAndFlag`: copied there).
    pub moved: Vec<Uid>,
    /// The UIDs that were asked for but no longer exist in the folder (already moved or deleted).
    pub missing: Vec<Uid>,
    /// Pairs (UID in the source folder, UID in Trash), where the server said (COPYUID).
    pub uid_map: Vec<(Uid, Uid)>,
    /// Messages that were copied to Trash and marked \Deleted but are still in the source folder,
    /// because the server cannot expunge single messages (no UIDPLUS).
    pub left_flagged: Vec<Uid>,
}

/// One mailbox, over IMAP or on disk. Reading never changes anything.
pub trait MailStore {
    /// A short description for people: "alex@imap.example.org" or the Maildir's path.
    fn describe(&self) -> String;

    /// Every folder.
    fn list_folders(&mut self) -> StoreResult<Vec<FolderInfo>>;

    /// Which folders are Sent, Trash, …: from SPECIAL-USE, else from well-known names; the
    /// user's overrides win.
    fn roles(&mut self, overrides: &RoleOverrides) -> StoreResult<FolderRoles> {
        let folders = self.list_folders()?;
        Ok(FolderRoles::discover(&folders, overrides))
    }

    /// Opens `folder` read-only and says what it holds.
    fn examine(&mut self, folder: &str) -> StoreResult<FolderStatus>;

    /// All UIDs in `folder`, ascending.
    fn uids(&mut self, folder: &str) -> StoreResult<(FolderStatus, Vec<Uid>)>;

    /// The given header fields (names as in RFC 5322, any case) and the size of each message in
    /// `uids`, handed over in batches as they arrive. Return `ControlFlow::Break` to stop early.
    /// Messages that vanished meanwhile are left out.
    fn fetch_headers(
        &mut self,
        folder: &str,
        uids: &[Uid],
        fields: &[&str],
        on_batch: &mut dyn FnMut(Vec<HeaderRecord>) -> ControlFlow<()>,
    ) -> StoreResult<()>;

    /// The raw bytes of each message in `uids`, each cut at `max_bytes`.
    fn fetch_bodies(
        &mut self,
        folder: &str,
        uids: &[Uid],
        max_bytes: u32,
    ) -> StoreResult<Vec<BodyRecord>>;

    /// Moves the messages `uids` of `folder` to the folder `to` (Trash, or back for undo), but
    /// only if `folder` still has the UIDVALIDITY `uidvalidity` that the UIDs were read under.
    fn move_messages(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[Uid],
        to: &str,
    ) -> StoreResult<MoveReport>;

    /// UIDs in `folder` whose messages match `query` (a superset on IMAP, whose SEARCH matches
    /// substrings: check what you fetch).
    fn search(&mut self, folder: &str, query: &Search) -> StoreResult<Vec<Uid>>;
}

/// What to look for with [`MailStore::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// The Message-ID header contains this id (give it bare, without angle brackets).
    MessageId(String),
    /// To, Cc or Bcc contains this address.
    Recipient(String),
}

/// A move needs two different folders.
pub(crate) fn check_distinct(folder: &str, to: &str) -> StoreResult<()> {
    if folder == to {
        return Err(StoreError::Config {
            detail: format!("the messages are already in the folder {to}"),
        });
    }
    Ok(())
}

/// Turns sorted UIDs into IMAP sequence sets of at most `max_per_set` UIDs each, with runs
/// compressed ("1:5,9,12:14").
pub fn uid_sets(uids: &[Uid], max_per_set: usize) -> Vec<String> {
    let mut sorted: Vec<Uid> = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
        .chunks(max_per_set.max(1))
        .map(|chunk| {
            let mut out = String::new();
            let mut i = 0;
            while i < chunk.len() {
                let start = chunk[i];
                let mut end = start;
                while i + 1 < chunk.len() && chunk[i + 1] == end + 1 {
                    i += 1;
                    end = chunk[i];
                }
                if !out.is_empty() {
                    out.push(',');
                }
                if start == end {
                    out.push_str(&start.to_string());
                } else {
                    out.push_str(&format!("{start}:{end}"));
                }
                i += 1;
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs_and_split() {
        assert_eq!(uid_sets(&[5, 1, 2, 3, 9, 12, 13, 14], 100), vec!["1:3,5,9,12:14"]);
        assert_eq!(uid_sets(&[1, 2, 3, 4], 2), vec!["1:2", "3:4"]);
        assert!(uid_sets(&[], 10).is_empty());
    }
}
