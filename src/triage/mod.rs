//! The verdict for each bounce, proven against the user's own Sent folder. Pure: no I/O.
//!
//! Matching order (DESIGN.md): the exact Message-ID of the original; when none survives, the
//! original recipient — one the user never wrote to means backscatter, one they wrote to is
//! matched by normalised subject and a date window (genuine) or left unverified. An empty Sent
//! folder proves nothing, so then every bounce is unverified.

use crate::bounce::{Analysis, Original};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How far apart the bounced message's date and a sent message's date may be to match them by
/// recipient and subject.
const DATE_WINDOW_SECS: i64 = 4 * 24 * 3600;

/// What the user's Sent folder says about one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// Bare Message-ID (no angle brackets), exactly as written.
    pub message_id: Option<String>,
    /// To, Cc and Bcc addresses, lower-cased.
    pub recipients: Vec<String>,
    pub subject: Option<String>,
    /// Seconds since the epoch.
    pub date: Option<i64>,
}

impl SentMessage {
    /// Reads the header fields of a sent message (as fetched: Message-ID, To, Cc, Bcc,
    /// Subject, Date).
    pub fn from_headers(raw: &[u8]) -> SentMessage {
        let Some(msg) = mail_parser::MessageParser::new().parse_headers(raw) else {
            return SentMessage::default();
        };
        let mut recipients = Vec::new();
        for addr in [msg.to(), msg.cc(), msg.bcc()].into_iter().flatten() {
            for a in addr.iter() {
                if let Some(email) = a.address() {
                    recipients.push(normalize_address(email));
                }
            }
        }
        SentMessage {
            message_id: msg.message_id().map(bare_id),
            recipients,
            subject: msg.subject().map(str::to_string),
            date: msg.date().map(|d| d.to_timestamp()),
        }
    }
}

/// The header fields a Sent index needs.
pub const SENT_FIELDS: &[&str] = &["Message-ID", "To", "Cc", "Bcc", "Subject", "Date"];

/// Strips angle brackets and surrounding white space; the rest is compared exactly.
pub fn bare_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

/// Lower-cases an address (the local part is case-sensitive in theory, never in practice for
/// matching who someone wrote to) and strips brackets.
pub fn normalize_address(a: &str) -> String {
    a.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase()
}

/// "Re: Fwd: AW:  Hello   world" → "hello world".
pub fn normalize_subject(s: &str) -> String {
    let mut rest = s.trim();
    loop {
        let lower = rest.to_lowercase();
        let mut stripped = false;
        for prefix in [
            "re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "vs:", "rv:", "ref:", "antw:", "odp:",
        ] {
            if lower.starts_with(prefix) {
                rest = rest.get(prefix.len()..).unwrap_or("").trim_start();
                stripped = true;
                break;
            }
        }
        if !stripped {
            break;
        }
    }
    rest.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// One message the user sent, kept for matching by recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SentEntry {
    subject: String,
    date: Option<i64>,
    message_id: Option<String>,
}

/// Everything in Sent, indexed for the verdicts.
#[derive(Debug, Clone, Default)]
pub struct SentIndex {
    ids: HashMap<String, usize>,
    entries: Vec<(SentEntry, Vec<String>)>,
    by_recipient: HashMap<String, Vec<usize>>,
    count: usize,
    /// The folders that were read, for the explanations.
    pub folders: Vec<String>,
}

impl SentIndex {
    pub fn new(folders: Vec<String>) -> SentIndex {
        SentIndex { folders, ..Default::default() }
    }

    pub fn add(&mut self, m: SentMessage) {
        let idx = self.entries.len();
        self.count += 1;
        if let Some(id) = &m.message_id {
            self.ids.entry(id.clone()).or_insert(idx);
        }
        for r in &m.recipients {
            self.by_recipient.entry(r.clone()).or_default().push(idx);
        }
        self.entries.push((
            SentEntry {
                subject: m.subject.as_deref().map(normalize_subject).unwrap_or_default(),
                date: m.date,
                message_id: m.message_id,
            },
            m.recipients,
        ));
    }

    /// Says how many messages Sent holds when only some were read (Sent was searched per
    /// bounce rather than indexed whole).
    pub fn set_total(&mut self, total: usize) {
        self.count = self.count.max(total);
    }

    /// How many sent messages were indexed (or, after `set_total`, are in Sent).
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn contains_id(&self, id: &str) -> bool {
        self.ids.contains_key(&bare_id(id))
    }

    pub fn has_written_to(&self, address: &str) -> bool {
        self.by_recipient.contains_key(&normalize_address(address))
    }

    fn entry_for_id(&self, id: &str) -> Option<&(SentEntry, Vec<String>)> {
        self.ids.get(&bare_id(id)).and_then(|&i| self.entries.get(i))
    }
}

/// The verdict on one bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// About a message that is not in Sent: the address was forged. Preselected for Trash.
    Backscatter,
    /// About a message the user really sent. Never preselected, never in the one-click delete.
    Genuine,
    /// Nothing identifies the original, or there is nothing to compare against.
    Unverified,
    /// Not in Sent, but it left through the user's own provider: maybe a mail app that does not
    /// save to Sent, maybe a compromised account.
    Suspicious,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Backscatter => "backscatter",
            Verdict::Genuine => "genuine",
            Verdict::Unverified => "unverified",
            Verdict::Suspicious => "suspicious",
        }
    }

    pub fn preselected(self) -> bool {
        self == Verdict::Backscatter
    }
}

/// A verdict with the reasons a person can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

/// The user's provider's outbound relays, learned from the originals of genuine bounces: the
/// servers that handed the user's real mail on (the lowest Received lines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnRelays {
    domains: HashSet<String>,
}

/// How many of the lowest Received lines of an original count as "the first hop": the one the
/// user's submission server added. (The next one up is often already the recipient's server,
/// which backscatter may share.)
const FIRST_HOPS: usize = 1;

impl OwnRelays {
    /// Learns from the original of a bounce whose message is in Sent.
    pub fn learn(&mut self, original: &Original) {
        for line in original.received.iter().rev().take(FIRST_HOPS) {
            if let Some(domain) = by_host(line).and_then(|h| base_domain(&h)) {
                self.domains.insert(domain);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The relay among the first hops of `original` that is one of the user's, if any.
    pub fn matches(&self, original: &Original) -> Option<String> {
        original.received.iter().rev().take(FIRST_HOPS).find_map(|line| {
            let host = by_host(line)?;
            base_domain(&host).filter(|d| self.domains.contains(d)).map(|_| host)
        })
    }
}

/// The host after "by" in a Received line.
fn by_host(received: &str) -> Option<String> {
    let lower = received.to_lowercase();
    let mut words = lower.split_whitespace();
    while let Some(w) = words.next() {
        if w == "by" {
            let host = words.next()?;
            let host =
                host.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-');
            if host.contains('.') {
                return Some(host.trim_end_matches('.').to_string());
            }
            return None;
        }
    }
    None
}

/// "smtp-out.mail.example.co.uk" → "example.co.uk"; "smtp.example.org" → "example.org".
fn base_domain(host: &str) -> Option<String> {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 || labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let n = labels.len();
    let second_level = ["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"];
    let take = if n >= 3 && labels[n - 1].len() == 2 && second_level.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    Some(labels[n - take.min(n)..].join("."))
}

fn format_date(ts: i64) -> String {
    let d = mail_parser::DateTime::from_timestamp(ts);
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = MONTHS.get((d.month as usize).saturating_sub(1)).copied().unwrap_or("?");
    format!("{} {} {}", d.day, month, d.year)
}

fn parse_date(s: &str) -> Option<i64> {
    mail_parser::DateTime::parse_rfc3339(s)
        .or_else(|| mail_parser::DateTime::parse_rfc822(s))
        .map(|d| d.to_timestamp())
}

fn failure_words(a: &Analysis) -> String {
    match (&a.status, &a.diagnostic) {
        (_, Some(d)) if !d.trim().is_empty() => {
            let d: String = d.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = d.chars().take(160).collect();
            if short.len() < d.len() {
                format!("{short}…")
            } else {
                short
            }
        }
        (Some(s), _) => format!("status {s}"),
        _ => "no reason given".into(),
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sent_folder_words(sent: &SentIndex) -> String {
    match sent.folders.as_slice() {
        [one] => format!("your Sent folder ({one})"),
        [] => "your Sent folder".into(),
        many => format!("your Sent folders ({})", many.join(", ")),
    }
}

/// Decides one bounce. `relays` are the user's own outbound relays (learned from genuine
/// bounces; empty on a first pass).
pub fn judge(a: &Analysis, sent: &SentIndex, relays: &OwnRelays) -> Judgement {
    let o = &a.original;
    let mut reasons = Vec::new();
    if sent.is_empty() {
        reasons.push(format!(
            "There is nothing to compare against: {} is empty. Some mail apps never save what they send, so this bounce cannot be checked.",
            sent_folder_words(sent)
        ));
        return Judgement { verdict: Verdict::Unverified, reasons };
    }
    let n = thousands(sent.len());
    if let Some(id) = &o.message_id {
        if let Some((entry, recipients)) = sent.entry_for_id(id) {
            let when = entry.date.map(format_date).map(|d| format!(" on {d}")).unwrap_or_default();
            let to = if recipients.is_empty() {
                String::new()
            } else {
                format!(" to {}", recipients.join(", "))
            };
            reasons.push(format!(
                "You sent this{when}{to}; it failed: {}. The bounced message <{id}> is in {}.",
                failure_words(a),
                sent_folder_words(sent)
            ));
            return Judgement { verdict: Verdict::Genuine, reasons };
        }
        reasons.push(format!(
            "The bounced message <{id}> is not among the {n} messages in {}.",
            sent_folder_words(sent)
        ));
        if let Some(host) = relays.matches(o) {
            reasons.push(format!(
                "But it left through your own provider's server {host}, like your real mail: maybe a mail app that does not save to Sent, maybe someone else using your account. Check your account's recent sign-ins."
            ));
            return Judgement { verdict: Verdict::Suspicious, reasons };
        }
        return Judgement { verdict: Verdict::Backscatter, reasons };
    }
    // No Message-ID survived: go by the recipient.
    let recipients: Vec<String> = o.recipients.iter().map(|r| normalize_address(r)).collect();
    if recipients.is_empty() {
        reasons.push(
            "Nothing in this bounce identifies the original message: no Message-ID and no recipient."
                .into(),
        );
        return Judgement { verdict: Verdict::Unverified, reasons };
    }
    let known: Vec<&String> = recipients.iter().filter(|r| sent.has_written_to(r)).collect();
    if known.is_empty() {
        let list = recipients.join(", ");
        reasons.push(format!(
            "You have never written to {list}: none of the {n} messages in {} went there.",
            sent_folder_words(sent)
        ));
        if let Some(host) = relays.matches(o) {
            reasons.push(format!(
                "But it left through your own provider's server {host}: maybe a mail app that does not save to Sent, maybe someone else using your account."
            ));
            return Judgement { verdict: Verdict::Suspicious, reasons };
        }
        return Judgement { verdict: Verdict::Backscatter, reasons };
    }
    let subject = o.subject.as_deref().map(normalize_subject).filter(|s| !s.is_empty());
    let date = o.date.as_deref().and_then(parse_date);
    if let Some(subject) = &subject {
        for r in &known {
            for &i in sent.by_recipient.get(*r).map(Vec::as_slice).unwrap_or(&[]) {
                let Some((entry, _)) = sent.entries.get(i) else { continue };
                let date_ok = match (date, entry.date) {
                    (Some(a), Some(b)) => (a - b).abs() <= DATE_WINDOW_SECS,
                    _ => true,
                };
                if &entry.subject == subject && date_ok {
                    let when =
                        entry.date.map(format_date).map(|d| format!(" on {d}")).unwrap_or_default();
                    reasons.push(format!(
                        "You sent \"{}\" to {r}{when}; it failed: {}. (Matched by recipient and subject: the bounce kept no Message-ID.)",
                        o.subject.as_deref().unwrap_or(""),
                        failure_words(a)
                    ));
                    return Judgement { verdict: Verdict::Genuine, reasons };
                }
            }
        }
    }
    reasons.push(format!(
        "You have written to {} before, but no message in {} matches this bounce's subject and date, and it kept no Message-ID to be sure.",
        known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        sent_folder_words(sent)
    ));
    Judgement { verdict: Verdict::Unverified, reasons }
}

/// Decides all bounces in two passes: the genuine ones first, to learn the user's own relays,
/// then every verdict with that knowledge.
pub fn judge_all<'a>(
    analyses: impl Iterator<Item = &'a Analysis> + Clone,
    sent: &SentIndex,
) -> (Vec<Judgement>, OwnRelays) {
    let mut relays = OwnRelays::default();
    let none = OwnRelays::default();
    for a in analyses.clone() {
        if judge(a, sent, &none).verdict == Verdict::Genuine {
            relays.learn(&a.original);
        }
    }
    let judgements = analyses.map(|a| judge(a, sent, &relays)).collect();
    (judgements, relays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::{Kind, Original};

    fn bounce(
        id: Option<&str>,
        rcpt: &[&str],
        subject: Option<&str>,
        received: &[&str],
    ) -> Analysis {
        let mut a = crate::bounce::analyze(b"");
        a.kind = Kind::DeliveryFailure;
        a.original = Original {
            message_id: id.map(str::to_string),
            recipients: rcpt.iter().map(|s| s.to_string()).collect(),
            subject: subject.map(str::to_string),
            date: Some("2026-11-03T10:00:00Z".into()),
            received: received.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        a.diagnostic = Some("552 5.2.2 mailbox full".into());
        a
    }

    fn sent() -> SentIndex {
        let mut s = SentIndex::new(vec!["Sent".into()]);
        s.add(SentMessage::from_headers(
            b"Message-ID: <Real.1@example.org>\r\nTo: Sam <Sam@Example.net>\r\nSubject: Lunch?\r\nDate: Tue, 3 Nov 2026 09:58:00 +0000\r\n\r\n",
        ));
        s.add(SentMessage::from_headers(
            b"Message-ID: <real.2@example.org>\r\nTo: kim@example.com\r\nCc: lee@example.com\r\nSubject: Re: Plans\r\n\r\n",
        ));
        s
    }

    #[test]
    fn message_ids_compare_exactly_but_for_brackets_and_space() {
        let s = sent();
        let (j, _) = judge_all([bounce(Some(" <Real.1@example.org> "), &[], None, &[])].iter(), &s);
        assert_eq!(j[0].verdict, Verdict::Genuine, "{:?}", j[0].reasons);
        assert!(j[0].reasons[0].contains("to sam@example.net"), "{:?}", j[0].reasons);
        assert!(j[0].reasons[0].contains("3 November 2026"), "{:?}", j[0].reasons);
        assert!(j[0].reasons[0].contains("mailbox full"));
        // The local part's case matters.
        let j =
            judge(&bounce(Some("real.1@example.org"), &[], None, &[]), &s, &OwnRelays::default());
        assert_eq!(j.verdict, Verdict::Backscatter);
        assert!(
            j.reasons[0].contains("is not among the 2 messages in your Sent folder (Sent)"),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn without_an_id_the_recipient_decides() {
        let s = sent();
        let none = OwnRelays::default();
        let j = judge(&bounce(None, &["fm99ksnzepm@wbs.example.ac.uk"], None, &[]), &s, &none);
        assert_eq!(j.verdict, Verdict::Backscatter);
        assert!(j.reasons[0].contains("never written to fm99ksnzepm@wbs.example.ac.uk"));
        let j = judge(&bounce(None, &["KIM@example.com"], Some("Plans"), &[]), &s, &none);
        assert_eq!(j.verdict, Verdict::Genuine, "{:?}", j.reasons);
        let j = judge(&bounce(None, &["lee@example.com"], Some("Something else"), &[]), &s, &none);
        assert_eq!(j.verdict, Verdict::Unverified);
        let j = judge(&bounce(None, &[], None, &[]), &s, &none);
        assert_eq!(j.verdict, Verdict::Unverified);
    }

    #[test]
    fn date_window_limits_subject_matches() {
        let s = sent();
        let mut b = bounce(None, &["sam@example.net"], Some("Lunch?"), &[]);
        assert_eq!(judge(&b, &s, &OwnRelays::default()).verdict, Verdict::Genuine);
        b.original.date = Some("2026-12-25T10:00:00Z".into());
        assert_eq!(judge(&b, &s, &OwnRelays::default()).verdict, Verdict::Unverified);
    }

    #[test]
    fn an_empty_sent_folder_proves_nothing() {
        let s = SentIndex::new(vec!["Sent".into()]);
        let j = judge(
            &bounce(Some("x@spam.example"), &["a@b.example"], None, &[]),
            &s,
            &OwnRelays::default(),
        );
        assert_eq!(j.verdict, Verdict::Unverified);
        assert!(!j.verdict.preselected());
        assert!(j.reasons[0].contains("is empty"));
    }

    #[test]
    fn suspicious_when_it_left_through_the_users_own_relays() {
        let s = sent();
        let own = [
            "from mx.example.net by mx.example.net with ESMTP",
            "from smtp.example.org (smtp.example.org [198.51.100.7]) by mx.example.net",
            "from [10.0.0.5] (helo=laptop) by smtp-out2.example.org with ESMTPSA",
        ];
        let genuine = bounce(Some("Real.1@example.org"), &[], None, &own);
        let forged_through_us = bounce(Some("evil@example.org"), &[], None, &own);
        let forged_elsewhere = bounce(
            Some("spam@botnet.example"),
            &[],
            None,
            &["from bot by mx.example.net", "from [203.0.113.9] by relay.botnet.example"],
        );
        let all = [genuine, forged_through_us, forged_elsewhere];
        let (j, relays) = judge_all(all.iter(), &s);
        assert!(!relays.is_empty());
        assert_eq!(j[0].verdict, Verdict::Genuine);
        assert_eq!(j[1].verdict, Verdict::Suspicious, "{:?}", j[1].reasons);
        assert!(j[1].reasons[1].contains("smtp-out2.example.org"));
        assert_eq!(j[2].verdict, Verdict::Backscatter, "{:?}", j[2].reasons);
    }

    #[test]
    fn subjects_normalise() {
        assert_eq!(normalize_subject("Re: Fwd: AW:  Hello   World"), "hello world");
        assert_eq!(normalize_subject("RE:"), "");
        assert_eq!(normalize_subject("Über"), "über");
        assert_eq!(base_domain("smtp.mail.example.co.uk").as_deref(), Some("example.co.uk"));
        assert_eq!(base_domain("192.0.2.1"), None);
        assert_eq!(
            by_host("from a by MX.Example.org. (Postfix)").as_deref(),
            Some("mx.example.org")
        );
    }
}
