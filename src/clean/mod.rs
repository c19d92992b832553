//! Clean: move the chosen bounces to Trash, following every safety rule of the design, and
//! undo that. Acts by UID, only on UIDs of a scan, and the store checks UIDVALIDITY again right
//! before each step. Resumable: a run that failed part-way leaves each message in the inbox or
//! in Trash, and running it again moves the rest.

use crate::mailstore::{MailStore, MoveMethod, Search, StoreError, Uid};
use crate::scan::ScanReport;
use crate::triage::Verdict;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many messages one command moves; progress is reported between steps.
const STEP: usize = 200;

/// What a clean will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanPlan {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub trash: String,
    pub uids: Vec<Uid>,
    /// The bounces' own Message-IDs, to find them in Trash for undo when the server does not
    /// say where they went.
    pub message_ids: BTreeMap<Uid, String>,
}

/// Why nothing could be planned or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanError {
    NoTrash,
    NotFromScan(Vec<Uid>),
    Store(StoreError),
    Cancelled { done: Box<CleanOutcome> },
}

impl std::fmt::Display for CleanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CleanError::NoTrash => f.write_str(
                "no Trash folder was found, and NeverSent never deletes without one; choose the Trash folder in the account settings",
            ),
            CleanError::NotFromScan(uids) => write!(
                f,
                "these UIDs are not bounces found by the scan, so they are not touched: {}",
                uids.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(", ")
            ),
            CleanError::Store(e) => e.fmt(f),
            CleanError::Cancelled { done } => {
                write!(f, "cancelled after moving {} messages; run it again to finish", done.moved.len())
            }
        }
    }
}

impl std::error::Error for CleanError {}

impl From<StoreError> for CleanError {
    fn from(e: StoreError) -> Self {
        CleanError::Store(e)
    }
}

/// Plans the one-click clean: every backscatter bounce, and nothing else. With `explicit`, the
/// user named the UIDs (any verdict, but only bounces found by this scan).
pub fn plan(report: &ScanReport, explicit: Option<&[Uid]>) -> Result<CleanPlan, CleanError> {
    let trash = report.trash_mailbox.clone().ok_or(CleanError::NoTrash)?;
    let uids: Vec<Uid> = match explicit {
        None => report
            .items
            .iter()
            .filter(|i| i.verdict == Some(Verdict::Backscatter))
            .map(|i| i.uid)
            .collect(),
        Some(list) => {
            let known: BTreeSet<Uid> = report.items.iter().map(|i| i.uid).collect();
            let unknown: Vec<Uid> = list.iter().copied().filter(|u| !known.contains(u)).collect();
            if !unknown.is_empty() {
                return Err(CleanError::NotFromScan(unknown));
            }
            let mut l = list.to_vec();
            l.sort_unstable();
            l.dedup();
            l
        }
    };
    let message_ids = report
        .items
        .iter()
        .filter(|i| uids.contains(&i.uid))
        .filter_map(|i| i.message_id.clone().map(|m| (i.uid, m)))
        .collect();
    Ok(CleanPlan {
        mailbox: report.mailbox.clone(),
        uidvalidity: report.uidvalidity,
        trash,
        uids,
        message_ids,
    })
}

/// What a clean did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanOutcome {
    pub moved: Vec<Uid>,
    /// Already gone from the inbox (moved by an earlier run, or by another client).
    pub missing: Vec<Uid>,
    /// Copied to Trash and marked \Deleted but left in the inbox (the server has no UIDPLUS).
    pub left_flagged: Vec<Uid>,
    /// Inbox UID → UID in Trash, where the server said.
    pub uid_map: BTreeMap<Uid, Uid>,
    pub to: String,
    pub method: Option<String>,
}

/// Progress of a clean or undo: (done, total).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Moves the planned messages to Trash in steps; stops between steps when `cancel` is set.
pub fn execute(
    store: &mut dyn MailStore,
    plan: &CleanPlan,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<CleanOutcome, CleanError> {
    execute_in_steps(store, plan, STEP, progress, cancel)
}

/// [`execute`] with `step` messages per command.
pub fn execute_in_steps(
    store: &mut dyn MailStore,
    plan: &CleanPlan,
    step: usize,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<CleanOutcome, CleanError> {
    let mut out = CleanOutcome { to: plan.trash.clone(), ..Default::default() };
    let total = plan.uids.len();
    progress(0, total);
    for chunk in plan.uids.chunks(step.max(1)) {
        if cancel.load(Ordering::Relaxed) {
            return Err(CleanError::Cancelled { done: Box::new(out) });
        }
        let r = store.move_messages(&plan.mailbox, plan.uidvalidity, chunk, &plan.trash)?;
        out.method = Some(
            match r.method {
                MoveMethod::Move => "move",
                MoveMethod::CopyStoreExpunge => "copy+expunge",
                MoveMethod::CopyAndFlag => "copy+flag",
            }
            .into(),
        );
        out.moved.extend(&r.moved);
        out.missing.extend(&r.missing);
        out.left_flagged.extend(&r.left_flagged);
        out.uid_map.extend(r.uid_map);
        progress(out.moved.len() + out.missing.len(), total);
    }
    Ok(out)
}

/// Moves what a clean moved back from Trash to the inbox. Finds the messages in Trash by the
/// UIDs the server reported, else by their Message-IDs. Returns how many came back.
pub fn undo(
    store: &mut dyn MailStore,
    plan: &CleanPlan,
    outcome: &CleanOutcome,
    progress: Progress<'_>,
) -> Result<usize, CleanError> {
    let (trash_status, trash_uids) = store.uids(&plan.trash)?;
    let in_trash: BTreeSet<Uid> = trash_uids.into_iter().collect();
    let mut back: BTreeSet<Uid> = BTreeSet::new();
    for uid in &outcome.moved {
        match outcome.uid_map.get(uid) {
            Some(t) if in_trash.contains(t) => {
                back.insert(*t);
            }
            _ => {
                if let Some(id) = plan.message_ids.get(uid) {
                    // Search matches substrings: take only exact Message-IDs.
                    let found = store.search(&plan.trash, &Search::MessageId(id.clone()))?;
                    if !found.is_empty() {
                        let mut exact = Vec::new();
                        store.fetch_headers(
                            &plan.trash,
                            &found,
                            &["Message-ID"],
                            &mut |batch| {
                                for rec in batch {
                                    let text = String::from_utf8_lossy(&rec.headers);
                                    let value = text.split_once(':').map(|(_, v)| v).unwrap_or("");
                                    if crate::triage::bare_id(value) == *id {
                                        exact.push(rec.uid);
                                    }
                                }
                                std::ops::ControlFlow::Continue(())
                            },
                        )?;
                        back.extend(exact);
                    }
                }
            }
        }
    }
    let back: Vec<Uid> = back.into_iter().collect();
    let total = back.len();
    progress(0, total);
    let mut done = 0;
    for chunk in back.chunks(STEP) {
        let r = store.move_messages(&plan.trash, trash_status.uidvalidity, chunk, &plan.mailbox)?;
        done += r.moved.len();
        progress(done, total);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ScanItem, ScanStats};

    fn item(uid: Uid, verdict: Verdict) -> ScanItem {
        ScanItem {
            uid,
            size: 1,
            from: String::new(),
            subject: String::new(),
            date: None,
            message_id: Some(format!("b{uid}@mx.example")),
            analysis: crate::bounce::analyze(b""),
            verdict: Some(verdict),
            reasons: vec![],
        }
    }

    fn report() -> ScanReport {
        ScanReport {
            mailbox: "INBOX".into(),
            uidvalidity: 9,
            sent_mailbox: Some("Sent".into()),
            sent_messages: 3,
            trash_mailbox: Some("Trash".into()),
            scanned: 10,
            items: vec![
                item(1, Verdict::Backscatter),
                item(2, Verdict::Genuine),
                item(3, Verdict::Unverified),
                item(4, Verdict::Suspicious),
                item(5, Verdict::Backscatter),
            ],
            warnings: vec![],
            stats: ScanStats::default(),
        }
    }

    #[test]
    fn one_click_takes_only_backscatter() {
        let p = plan(&report(), None).expect("plan");
        assert_eq!(p.uids, vec![1, 5]);
        assert_eq!(p.uidvalidity, 9);
        assert_eq!(p.message_ids.get(&5).map(String::as_str), Some("b5@mx.example"));
    }

    #[test]
    fn explicit_uids_must_come_from_the_scan() {
        let p = plan(&report(), Some(&[2, 2, 3])).expect("plan");
        assert_eq!(p.uids, vec![2, 3]);
        let e = plan(&report(), Some(&[2, 77])).expect_err("unknown uid");
        assert_eq!(e, CleanError::NotFromScan(vec![77]));
    }

    #[test]
    fn no_trash_no_clean() {
        let mut r = report();
        r.trash_mailbox = None;
        assert_eq!(plan(&r, None).expect_err("no trash"), CleanError::NoTrash);
    }
}
