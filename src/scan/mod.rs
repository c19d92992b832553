//! The scan: read the inbox (header fields of all, bodies of candidates only), analyse the
//! bounces, index Sent, and judge each bounce. Read-only. Runs on whatever thread calls it:
//! events go out through a callback, cancellation comes in through an atomic flag.

pub mod cache;

use crate::bounce::{self, Analysis, Kind};
use crate::mailstore::{FolderRoles, MailStore, RoleOverrides, Search, StoreError, Uid};
use crate::triage::{self, Judgement, SentIndex, SentMessage, Verdict};
use cache::{CacheLocation, InboxCache, SentCache};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The bounce's own header lines we show (besides what the analysis needs).
const DISPLAY_FIELDS: &[&str] = &["From", "Subject", "Date", "Message-ID"];
/// How many bodies to fetch in one go, at most…
const BODY_BATCH: usize = 50;
/// …and how many bytes (as announced by RFC822.SIZE, each counted up to the cap), so that a
/// run of huge messages never holds more than this in memory.
const BODY_BATCH_BYTES: u64 = 16 << 20;

/// Splits candidates (UID, size) into fetch batches bounded in count and bytes.
fn body_batches(candidates: &[(Uid, u32)], cap: u32) -> Vec<Vec<Uid>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in candidates {
        let b = size.min(cap) as u64;
        if !cur.is_empty() && (cur.len() >= BODY_BATCH || bytes + b > BODY_BATCH_BYTES) {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        cur.push(uid);
        bytes += b;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub inbox: String,
    pub roles: RoleOverrides,
    /// Bodies larger than this are analysed from their first `body_cap` bytes.
    pub body_cap: u32,
    /// Where to keep the cache (None: no cache).
    pub cache: Option<CacheLocation>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            inbox: "INBOX".into(),
            roles: RoleOverrides::default(),
            body_cap: 2 << 20,
            cache: None,
        }
    }
}

/// Where the scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Folders,
    Inbox,
    Bounces,
    Sent,
    Judging,
}

impl Phase {
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Folders => "Finding your folders",
            Phase::Inbox => "Checking inbox messages",
            Phase::Bounces => "Reading the bounces",
            Phase::Sent => "Indexing your Sent folder",
            Phase::Judging => "Comparing with what you sent",
        }
    }
}

/// Something the scan tells whoever watches.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    Phase(Phase),
    /// `done` of `total` in the current phase.
    Progress {
        phase: Phase,
        done: u64,
        total: u64,
    },
    /// A bounce was found (its verdict comes with the final report).
    Found(Box<ScanItem>),
    /// A problem with one message, or something the user should know.
    Warning(String),
}

/// One bounce in the inbox, with what it says and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanItem {
    pub uid: Uid,
    pub size: u32,
    /// The bounce's own From, Subject, Date (seconds since the epoch) and Message-ID.
    pub from: String,
    pub subject: String,
    pub date: Option<i64>,
    pub message_id: Option<String>,
    pub analysis: Analysis,
    /// Filled in by the judging phase.
    pub verdict: Option<Verdict>,
    pub reasons: Vec<String>,
}

impl ScanItem {
    pub fn kind(&self) -> &Kind {
        &self.analysis.kind
    }
}

/// Counts that show what the scan cost.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanStats {
    pub inbox_messages: usize,
    /// Inbox messages whose header fields were fetched in this run (not from the cache).
    pub headers_fetched: usize,
    /// Bodies fetched in this run.
    pub bodies_fetched: usize,
    pub body_bytes: u64,
    pub from_cache: usize,
    pub sent_from_cache: usize,
    pub sent_headers_fetched: usize,
    /// True when Sent was searched per bounce rather than indexed whole.
    pub sent_searched: bool,
    pub seconds: f64,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub sent_mailbox: Option<String>,
    pub sent_messages: usize,
    pub trash_mailbox: Option<String>,
    pub scanned: usize,
    pub items: Vec<ScanItem>,
    pub warnings: Vec<String>,
    pub stats: ScanStats,
}

impl ScanReport {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.items.iter().filter(|i| i.verdict == Some(verdict)).count()
    }
}

/// Why a scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    Store(StoreError),
    Cancelled,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Store(e) => e.fmt(f),
            ScanError::Cancelled => f.write_str("the scan was cancelled"),
        }
    }
}

impl std::error::Error for ScanError {}

impl From<StoreError> for ScanError {
    fn from(e: StoreError) -> Self {
        ScanError::Store(e)
    }
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), ScanError> {
    if cancel.load(Ordering::Relaxed) {
        Err(ScanError::Cancelled)
    } else {
        Ok(())
    }
}

/// The header fields fetched for every inbox message.
pub fn inbox_fields() -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = bounce::PREFILTER_HEADERS.to_vec();
    for f in DISPLAY_FIELDS {
        if !fields.iter().any(|x| x.eq_ignore_ascii_case(f)) {
            fields.push(f);
        }
    }
    fields
}

/// Reads a bounce's own From/Subject/Date/Message-ID.
fn own_headers(raw: &[u8]) -> (String, String, Option<i64>, Option<String>) {
    match mail_parser::MessageParser::new().parse_headers(raw) {
        Some(m) => {
            let from = m
                .from()
                .and_then(|a| a.first())
                .map(|a| match (a.name(), a.address()) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (None, Some(e)) => e.to_string(),
                    (Some(n), None) => n.to_string(),
                    (None, None) => String::new(),
                })
                .unwrap_or_default();
            (
                from,
                m.subject().unwrap_or("").to_string(),
                m.date().map(|d| d.to_timestamp()),
                m.message_id().map(triage::bare_id),
            )
        }
        None => (String::new(), String::new(), None, None),
    }
}

/// Scans `store`. Cancelling (setting `cancel`) stops between batches with
/// `ScanError::Cancelled`; what was read so far is kept in the cache.
pub fn scan(
    store: &mut dyn MailStore,
    cfg: &ScanConfig,
    events: &mut dyn FnMut(ScanEvent),
    cancel: &AtomicBool,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let mut stats = ScanStats::default();
    let mut warnings = Vec::new();
    let warn = |events: &mut dyn FnMut(ScanEvent), w: String, warnings: &mut Vec<String>| {
        warnings.push(w.clone());
        events(ScanEvent::Warning(w));
    };

    events(ScanEvent::Phase(Phase::Folders));
    let roles: FolderRoles = store.roles(&cfg.roles)?;
    check_cancel(cancel)?;

    // 1. The inbox: header fields of the new messages, bodies of the candidates.
    events(ScanEvent::Phase(Phase::Inbox));
    let (status, uids) = store.uids(&cfg.inbox)?;
    stats.inbox_messages = uids.len();
    let mut cache = match &cfg.cache {
        Some(loc) => InboxCache::load(loc, &cfg.inbox),
        None => InboxCache::default(),
    };
    if cache.uidvalidity != status.uidvalidity {
        if cache.uidvalidity != 0 {
            warn(
                events,
                format!(
                    "{} was rebuilt on the server since the last scan (UIDVALIDITY changed), so every message is read again.",
                    cfg.inbox
                ),
                &mut warnings,
            );
        }
        cache = InboxCache { uidvalidity: status.uidvalidity, ..Default::default() };
    }
    let present: HashSet<Uid> = uids.iter().copied().collect();
    cache.retain(&present);
    let new_uids: Vec<Uid> = uids.iter().copied().filter(|u| !cache.knows(*u)).collect();
    stats.from_cache = uids.len() - new_uids.len();
    let total = uids.len() as u64;
    let mut done = stats.from_cache as u64;
    events(ScanEvent::Progress { phase: Phase::Inbox, done, total });
    for item in cache.bounces.values() {
        events(ScanEvent::Found(Box::new(item.clone())));
    }

    let fields = inbox_fields();
    let mut candidates: Vec<(Uid, u32)> = Vec::new();
    let mut header_result = Ok(());
    store.fetch_headers(&cfg.inbox, &new_uids, &fields, &mut |batch| {
        for rec in batch {
            stats.headers_fetched += 1;
            if bounce::headers_suggest_bounce(&rec.headers) {
                candidates.push((rec.uid, rec.size));
            } else {
                cache.not_bounces.insert(rec.uid);
            }
        }
        done = (stats.from_cache + stats.headers_fetched) as u64;
        events(ScanEvent::Progress { phase: Phase::Inbox, done, total });
        if cancel.load(Ordering::Relaxed) {
            header_result = Err(ScanError::Cancelled);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    if let Err(e) = header_result {
        save_inbox_cache(cfg, &cache, events, &mut warnings);
        return Err(e);
    }

    events(ScanEvent::Phase(Phase::Bounces));
    let cand_total = candidates.len() as u64;
    let mut fetched_so_far = 0u64;
    for chunk in body_batches(&candidates, cfg.body_cap) {
        if cancel.load(Ordering::Relaxed) {
            save_inbox_cache(cfg, &cache, events, &mut warnings);
            return Err(ScanError::Cancelled);
        }
        let bodies = store.fetch_bodies(&cfg.inbox, &chunk, cfg.body_cap)?;
        fetched_so_far += chunk.len() as u64;
        for body in bodies {
            stats.bodies_fetched += 1;
            stats.body_bytes += body.raw.len() as u64;
            let analysis = bounce::analyze(&body.raw);
            for w in &analysis.warnings {
                warn(events, format!("Message UID {}: {w}", body.uid), &mut warnings);
            }
            if body.truncated {
                warn(
                    events,
                    format!(
                        "Message UID {} is {} bytes; only its first {} bytes were read.",
                        body.uid, body.size, cfg.body_cap
                    ),
                    &mut warnings,
                );
            }
            if analysis.kind == Kind::NotBounce {
                cache.not_bounces.insert(body.uid);
                continue;
            }
            let (from, subject, date, message_id) = own_headers(&body.raw);
            let item = ScanItem {
                uid: body.uid,
                size: body.size,
                from,
                subject,
                date,
                message_id,
                analysis,
                verdict: None,
                reasons: Vec::new(),
            };
            events(ScanEvent::Found(Box::new(item.clone())));
            cache.bounces.insert(body.uid, item);
        }
        events(ScanEvent::Progress {
            phase: Phase::Bounces,
            done: fetched_so_far,
            total: cand_total,
        });
    }
    save_inbox_cache(cfg, &cache, events, &mut warnings);

    // 2. Sent: index it whole, or (few bounces, huge Sent, nothing cached) search it per bounce.
    events(ScanEvent::Phase(Phase::Sent));
    let mut sent_folders: Vec<String> = Vec::new();
    if let Some(s) = roles.sent_name() {
        sent_folders.push(s.to_string());
    }
    for extra in &roles.extra_sent {
        if !sent_folders.contains(extra) {
            sent_folders.push(extra.clone());
        }
    }
    if sent_folders.is_empty() {
        warn(
            events,
            "No Sent folder was found, so no bounce can be checked against what you sent; choose your Sent folder in the account settings.".into(),
            &mut warnings,
        );
    }
    let bounces: Vec<&ScanItem> = cache.bounces.values().collect();
    let mut sent = SentIndex::new(sent_folders.clone());
    for folder in &sent_folders {
        check_cancel(cancel)?;
        index_sent(store, cfg, folder, &bounces, &mut sent, &mut stats, events)?;
    }
    if !sent_folders.is_empty() && sent.is_empty() {
        warn(
            events,
            format!(
                "Your Sent folder ({}) is empty, so there is nothing to compare the bounces against: they are all marked unverified. Some mail apps never save what they send.",
                sent_folders.join(", ")
            ),
            &mut warnings,
        );
    }

    // 3. Verdicts.
    events(ScanEvent::Phase(Phase::Judging));
    let mut items: Vec<ScanItem> = cache.bounces.values().cloned().collect();
    items.sort_by_key(|i| i.uid);
    let (judgements, _relays) = triage::judge_all(items.iter().map(|i| &i.analysis), &sent);
    for (item, Judgement { verdict, reasons }) in items.iter_mut().zip(judgements) {
        item.verdict = Some(verdict);
        item.reasons = reasons;
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(ScanReport {
        mailbox: cfg.inbox.clone(),
        uidvalidity: status.uidvalidity,
        sent_mailbox: sent_folders.first().cloned(),
        sent_messages: sent.len(),
        trash_mailbox: roles.trash_name().map(str::to_string),
        scanned: uids.len(),
        items,
        warnings,
        stats,
    })
}

fn save_inbox_cache(
    cfg: &ScanConfig,
    cache: &InboxCache,
    events: &mut dyn FnMut(ScanEvent),
    warnings: &mut Vec<String>,
) {
    if let Some(loc) = &cfg.cache {
        if let Err(e) = cache.save(loc, &cfg.inbox) {
            let w = format!(
                "The scan cache could not be saved ({e}); the next scan reads everything again."
            );
            warnings.push(w.clone());
            events(ScanEvent::Warning(w));
        }
    }
}

/// Whether searching Sent per bounce is cheaper than indexing it whole.
fn search_is_cheaper(sent_exists: u32, lookups: usize, cached: bool) -> bool {
    !cached && sent_exists > 2_000 && lookups * 40 < sent_exists as usize
}

fn index_sent(
    store: &mut dyn MailStore,
    cfg: &ScanConfig,
    folder: &str,
    bounces: &[&ScanItem],
    sent: &mut SentIndex,
    stats: &mut ScanStats,
    events: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    let (status, uids) = store.uids(folder)?;
    let mut cache = match &cfg.cache {
        Some(loc) => SentCache::load(loc, folder),
        None => SentCache::default(),
    };
    if cache.uidvalidity != status.uidvalidity {
        cache = SentCache { uidvalidity: status.uidvalidity, ..Default::default() };
    }
    // What would a per-bounce search need?
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut rcpts: BTreeSet<String> = BTreeSet::new();
    for b in bounces {
        match &b.analysis.original.message_id {
            Some(id) => {
                ids.insert(id.clone());
            }
            None => rcpts.extend(
                b.analysis.original.recipients.iter().map(|r| triage::normalize_address(r)),
            ),
        }
    }
    let total = uids.len() as u64;
    if search_is_cheaper(status.exists, ids.len() + rcpts.len(), !cache.messages.is_empty()) {
        stats.sent_searched = true;
        let mut found: BTreeSet<Uid> = BTreeSet::new();
        for id in &ids {
            found.extend(store.search(folder, &Search::MessageId(id.clone()))?);
        }
        for r in &rcpts {
            found.extend(store.search(folder, &Search::Recipient(r.clone()))?);
        }
        let found: Vec<Uid> = found.into_iter().collect();
        store.fetch_headers(folder, &found, triage::SENT_FIELDS, &mut |batch| {
            for rec in batch {
                stats.sent_headers_fetched += 1;
                sent.add(SentMessage::from_headers(&rec.headers));
            }
            ControlFlow::Continue(())
        })?;
        // The rest of Sent was not read, but it was searched: say how many were looked at.
        sent.set_total(sent.len().max(uids.len()));
        events(ScanEvent::Progress { phase: Phase::Sent, done: total, total });
        return Ok(());
    }
    let present: HashSet<Uid> = uids.iter().copied().collect();
    cache.messages.retain(|uid, _| present.contains(uid));
    let new_uids: Vec<Uid> =
        uids.iter().copied().filter(|u| !cache.messages.contains_key(u)).collect();
    stats.sent_from_cache += uids.len() - new_uids.len();
    let mut done = (uids.len() - new_uids.len()) as u64;
    let mut fetched: BTreeMap<Uid, SentMessage> = BTreeMap::new();
    store.fetch_headers(folder, &new_uids, triage::SENT_FIELDS, &mut |batch| {
        for rec in batch {
            stats.sent_headers_fetched += 1;
            fetched.insert(rec.uid, SentMessage::from_headers(&rec.headers));
        }
        done += 1;
        events(ScanEvent::Progress { phase: Phase::Sent, done: done.min(total), total });
        ControlFlow::Continue(())
    })?;
    cache.messages.extend(fetched);
    for m in cache.messages.values() {
        sent.add(m.clone());
    }
    events(ScanEvent::Progress { phase: Phase::Sent, done: total, total });
    if let Some(loc) = &cfg.cache {
        if let Err(e) = cache.save(loc, folder) {
            events(ScanEvent::Warning(format!("The Sent cache could not be saved ({e}).")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_only_pays_off_for_few_bounces_and_a_big_uncached_sent() {
        assert!(search_is_cheaper(50_000, 10, false));
        assert!(!search_is_cheaper(50_000, 10, true));
        assert!(!search_is_cheaper(50_000, 5_000, false));
        assert!(!search_is_cheaper(500, 1, false));
    }

    #[test]
    fn body_batches_are_bounded_in_count_and_bytes() {
        let many: Vec<(Uid, u32)> = (1..=120).map(|u| (u, 1000)).collect();
        let b = body_batches(&many, 1 << 20);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![50, 50, 20]);
        let huge: Vec<(Uid, u32)> = (1..=5).map(|u| (u, 900 << 20)).collect();
        let b = body_batches(&huge, 10 << 20);
        assert_eq!(b.len(), 5, "each capped 10 MB body alone: {b:?}");
        assert!(body_batches(&[], 1).is_empty());
    }

    #[test]
    fn inbox_fields_include_the_prefilter_and_display_fields() {
        let f = inbox_fields();
        for name in bounce::PREFILTER_HEADERS.iter().chain(DISPLAY_FIELDS) {
            assert!(f.iter().any(|x| x.eq_ignore_ascii_case(name)), "{name}");
        }
    }
}
