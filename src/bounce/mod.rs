//! Bounce analysis engine (pure: no I/O).
//!
//! `analyze` decides whether a raw RFC 5322 message is a bounce (or another
//! automatic response about a message: delay/success notice, auto-reply,
//! challenge-response, virus notice, feedback report) and recovers what it can
//! about the original message: its Message-ID (the key for the Sent-folder
//! cross-check), recipients, sender, subject, date and Received trail.
//!
//! Work is bounded: the input is capped at [`MAX_INPUT`] bytes, prose scanning
//! at a few hundred KiB, and every loop is linear in its (capped) input.

pub mod dsn;
mod fastfield;
pub mod headers;
mod mime;
mod prefilter;
mod ses;
pub mod text;

use std::borrow::Cow;
use std::fmt;

use mail_parser::{HeaderName, MessageParser};
use mime::HeaderView;
use serde::{Deserialize, Serialize};

use self::headers::{bare_message_id, OrigHeaders};
use self::mime::Leaf;
use self::text::{Cat, Hits, TrimWs, WEAK_FAIL};

pub use self::prefilter::{headers_suggest_bounce, PREFILTER_HEADERS};

/// The mail-parser configuration of the header-only prefilter (the analysis
/// itself finds fields with `mime.rs` and hands the same fields to mail-parser's
/// field parsers): structured parsing only of
/// the fields the engine reads through mail-parser (MIME headers, From, To,
/// Cc, Subject, Message-ID).  Everything else (Received above all, whose
/// structured parsing is expensive) is only skipped over; its raw value stays
/// available through `headers_raw`.
pub(crate) fn parser() -> &'static MessageParser {
    static P: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .header_address(HeaderName::From)
            .header_address(HeaderName::To)
            .header_address(HeaderName::Cc)
            .header_text(HeaderName::Subject)
            .header_id(HeaderName::MessageId)
            .default_header_ignore()
    })
}

/// Messages larger than this are analysed on their first `MAX_INPUT` bytes.
pub const MAX_INPUT: usize = 4 * 1024 * 1024;
/// Cap on the prose text collected from the bounce's own text parts.
const MAX_TEXT: usize = 512 * 1024;
/// Cap on the text scanned for phrases.
const MAX_PHRASE_SCAN: usize = 64 * 1024;
/// Cap on lines scanned for quoted headers.
const MAX_QUOTE_LINES: usize = 20_000;
/// Cap on lines of prose scanned for recipients/diagnostics.
const MAX_PROSE_LINES: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    NotBounce,
    DeliveryFailure,
    DeliveryDelay,
    DeliverySuccess,
    AutoReply,
    ChallengeResponse,
    VirusNotice,
    FeedbackReport,
}

impl Kind {
    pub fn is_bounce_kind(&self) -> bool {
        *self != Kind::NotBounce
    }
    pub const ALL: [Kind; 8] = [
        Kind::NotBounce,
        Kind::DeliveryFailure,
        Kind::DeliveryDelay,
        Kind::DeliverySuccess,
        Kind::AutoReply,
        Kind::ChallengeResponse,
        Kind::VirusNotice,
        Kind::FeedbackReport,
    ];
}

/// The snake_case name of a kind (as used in JSON output).
pub fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::NotBounce => "not_bounce",
        Kind::DeliveryFailure => "delivery_failure",
        Kind::DeliveryDelay => "delivery_delay",
        Kind::DeliverySuccess => "delivery_success",
        Kind::AutoReply => "auto_reply",
        Kind::ChallengeResponse => "challenge_response",
        Kind::VirusNotice => "virus_notice",
        Kind::FeedbackReport => "feedback_report",
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(kind_name(self))
    }
}

/// What was recovered about the original (bounced) message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Original {
    /// Bare Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// Bare addresses (domain lowercased) the original was sent to.
    pub recipients: Vec<String>,
    pub from: Option<String>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// RFC 3339 if parseable, else the raw value.
    pub date: Option<String>,
    /// The original's Received header values, top first.
    pub received: Vec<String>,
}

/// RFC 3464 per-recipient fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientStatus {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub remote_mta: Option<String>,
    pub diagnostic_code: Option<String>,
    pub last_attempt_date: Option<String>,
    pub will_retry_until: Option<String>,
    pub final_log_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    pub kind: Kind,
    pub original: Original,
    /// Enhanced status code such as "5.1.1".
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// Short human sentences: why this kind, where the Message-ID came from.
    pub evidence: Vec<String>,
    pub warnings: Vec<String>,
    pub reporting_mta: Option<String>,
    pub recipients_detail: Vec<RecipientStatus>,
}

impl Analysis {
    fn empty() -> Analysis {
        Analysis {
            kind: Kind::NotBounce,
            original: Original::default(),
            status: None,
            diagnostic: None,
            evidence: Vec::new(),
            warnings: Vec::new(),
            reporting_mta: None,
            recipients_detail: Vec::new(),
        }
    }
}

/// Analyse one raw message.  Pure, never panics, bounded work.
pub fn analyze(raw: &[u8]) -> Analysis {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyze_inner(raw))) {
        Ok(a) => a,
        Err(_) => {
            let mut a = Analysis::empty();
            a.warnings.push(
                "internal error while analysing this message; treated as not a bounce".into(),
            );
            a
        }
    }
}

/// Replace bare CRs (not followed by LF) with LF when the message uses them as
/// line terminators.  When most lines end in CR CR LF (CRLF text converted to
/// CRLF once more), the CR before a CRLF is dropped instead, the CRLF ending
/// the line.  Returns None when no change is needed.
pub(crate) fn normalize_line_endings(raw: &[u8]) -> Option<Vec<u8>> {
    // memchr (SIMD) over the CRs only: most messages have none, CRLF ones one a line.
    let first = memchr::memchr(b'\r', raw)?;
    let is_bare = |i: usize| raw.get(i + 1) != Some(&b'\n');
    let cr = text::ByteFinder::new(b'\r');
    // the positions of the CRs from `first` on
    let crs = || {
        let mut from = first;
        std::iter::from_fn(move || {
            let p = from + cr.find(raw.get(from..)?)?;
            from = p + 1;
            Some(p)
        })
    };
    let before_crlf = |i: usize| raw.get(i + 1..i + 3) == Some(b"\r\n");
    let (mut bare_cr, mut cr_crlf) = (0, 0);
    for p in crs().filter(|&p| is_bare(p)) {
        bare_cr += 1;
        cr_crlf += usize::from(before_crlf(p));
    }
    if bare_cr == 0 {
        return None;
    }
    let lf = raw.iter().filter(|&&b| b == b'\n').count();
    // the first two lines (not empty) ended by bare CRs: the message's own
    // lines end so, however many LFs an attached part written elsewhere brings
    // (a stray CR in an LF message is not enough)
    let first_line_cr = first > 0
        && is_bare(first)
        && memchr::memchr(b'\n', &raw[..first]).is_none()
        && memchr::memchr2(b'\r', b'\n', &raw[first + 1..])
            .is_some_and(|p| p > 0 && raw[first + 1 + p] == b'\r' && is_bare(first + 1 + p));
    if bare_cr < lf / 4 && !first_line_cr {
        return None;
    }
    let doubled = cr_crlf * 2 >= lf;
    let mut out = Vec::with_capacity(raw.len());
    let mut done = 0;
    for i in crs() {
        if is_bare(i) {
            out.extend_from_slice(&raw[done..i]);
            if !(doubled && before_crlf(i)) {
                out.push(b'\n');
            }
            done = i + 1;
        }
    }
    out.extend_from_slice(&raw[done..]);
    Some(out)
}

/// Signals read from the bounce's own top-level header.
#[derive(Default, Debug)]
struct TopHeaders {
    own_id: Option<String>,
    from_addr: Option<String>,
    from_display: String,
    from_present: bool,
    subject: Option<String>,
    /// Whether the first Return-Path field names the null sender or a
    /// mailer daemon (None: no Return-Path field).
    null_return_path: Option<bool>,
    auto_submitted: Option<Cow<'static, str>>,
    x_failed: Vec<String>,
    x_failed_present: bool,
    precedence: Option<Cow<'static, str>>,
    x_autoreply: bool,
    challenge_header: bool,
    list: bool,
    x_original_message_id: Option<String>,
    in_reply_to: Option<String>,
    references_last: Option<String>,
    ct_type: Cow<'static, str>,
    ct_sub: Cow<'static, str>,
    report_type: Cow<'static, str>,
}

const CHALLENGE_HEADERS: &[&str] = &[
    "x-boxbe-notification",
    "x-boxtrapper",
    "x-spamarrest-noauth",
    "x-choicemail-registration",
    "x-tmda-confirm",
    "x-challenge",
    "x-mailblocks",
];

/// Field names `read_top` looks at (besides `CHALLENGE_HEADERS`).
const TOP_FIELDS: &[&str] = &[
    "from",
    "return-path",
    "auto-submitted",
    "x-failed-recipients",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-autogenerated",
    "x-auto-reply",
    "x-vacation",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "mailing-list",
    "x-mailing-list",
    "x-original-message-id",
    "in-reply-to",
    "references",
];

/// Bit set of (length, first letter) of the names `read_top` looks at: most
/// other fields (Received, DKIM-Signature, Date ...) are rejected on it alone.
const TOP_KEYS: [u64; 16] = {
    let mut set = [0u64; 16];
    let mut i = 0;
    while i < TOP_FIELDS.len() + CHALLENGE_HEADERS.len() {
        let k = top_key(top_name(i).as_bytes());
        set[k / 64] |= 1 << (k % 64);
        i += 1;
    }
    set
};

/// The `i`th name `read_top` looks at: `TOP_FIELDS`, then `CHALLENGE_HEADERS`.
const fn top_name(i: usize) -> &'static str {
    if i < TOP_FIELDS.len() {
        TOP_FIELDS[i]
    } else {
        CHALLENGE_HEADERS[i - TOP_FIELDS.len()]
    }
}

/// (length mod 32, first byte's low five bits, which ignore ASCII case) as a number < 1024.
const fn top_key(name: &[u8]) -> usize {
    let first = if name.is_empty() { 0 } else { name[0] & 0x1F };
    (name.len() % 32) << 5 | first as usize
}

const _: () = assert!(TOP_FIELDS.len() + CHALLENGE_HEADERS.len() <= 32);

/// Per `top_key`: the bit set of the indices (in `TOP_FIELDS` then
/// `CHALLENGE_HEADERS`) of the names with that key.
static TOP_CANDIDATES: [u32; 1024] = {
    let mut t = [0u32; 1024];
    let mut i = 0;
    while i < TOP_FIELDS.len() + CHALLENGE_HEADERS.len() {
        t[top_key(top_name(i).as_bytes())] |= 1 << i;
        i += 1;
    }
    t
};

fn top_wants(name: &[u8]) -> bool {
    let k = top_key(name);
    if TOP_KEYS[k / 64] & (1 << (k % 64)) == 0 {
        return false;
    }
    let mut cands = TOP_CANDIDATES.get(k).copied().unwrap_or(0);
    while cands != 0 {
        let i = cands.trailing_zeros() as usize;
        cands &= cands - 1;
        let w = TOP_FIELDS.get(i).or_else(|| CHALLENGE_HEADERS.get(i - TOP_FIELDS.len()));
        if w.is_some_and(|w| text::eq_ci(name, w.as_bytes())) {
            return true;
        }
    }
    false
}

/// The header-only gate shared by `analyze` and `headers_suggest_bounce`.
struct Gate {
    top: TopHeaders,
    sig: Sig,
    subj_lower: String,
    subj_hits: Hits,
    ar_header: bool,
    pass: bool,
}

fn gate(m: &impl mime::HeaderView) -> Gate {
    let top = read_top(m);
    let sig = sender_signals(&top);
    let subj_lower = text::lowercase(top.subject.as_deref().unwrap_or(""));
    let mut subj_hits = Hits::default();
    text::scan_phrases(&subj_lower, &mut subj_hits);
    let ar_header = sig.auto_replied
        || top.x_autoreply
        || top
            .precedence
            .as_deref()
            .is_some_and(|p| p.contains("auto_reply") || p.contains("auto-reply"));
    let from_l = top.from_addr.as_deref().unwrap_or("");
    let pass = top.ct_sub == "report"
        || !top.report_type.is_empty()
        || sig.daemon
        || sig.null_rp
        || sig.auto_generated
        || sig.gateway
        || sig.list_robot
        || top.x_failed_present
        || ar_header
        || top.challenge_header
        || top.x_original_message_id.is_some()
        || subj_hits.count.iter().any(|&c| c > 0)
        || from_l.contains("amazonses")
        || from_l.contains("amazonaws");
    Gate { top, sig, subj_lower, subj_hits, ar_header, pass }
}

pub(crate) fn header_gate_of(m: &impl mime::HeaderView) -> bool {
    gate(m).pass
}

fn read_top(m: &impl mime::HeaderView) -> TopHeaders {
    let last = m.last_fields();
    let mut t = TopHeaders {
        own_id: last.message_id().map(|s| s.trim_ws().trim_matches(['<', '>']).to_string()),
        ..Default::default()
    };
    if let Some(a) = last.from().and_then(|a| a.first()) {
        t.from_addr = a.address().map(|s| s.trim_ws().to_ascii_lowercase());
        t.from_display = text::lowercase(a.name().unwrap_or(""));
    }
    t.subject = last.subject().map(|s| text::squash_ws(s, 1000));
    if let Some(s) = t.subject.as_deref().filter(|s| s.contains('\u{FFFD}')) {
        let raw = headers::raw_headers_named(m, |n| n.len() == 7 && text::eq_ci(n, b"subject"));
        if let Some(better) = raw.last().and_then(|(_, v)| text::mend_split_words(s, v)) {
            t.subject = Some(better);
        }
    }
    if let Some(ct) = last.content_type() {
        // (no allocation for the usual types)
        t.ct_type = mime::lower_mime_type(ct.ctype());
        t.ct_sub = mime::lower_mime_subtype(ct.subtype().unwrap_or(""));
        t.report_type = mime::lower_known(
            ct.attribute("report-type").unwrap_or("").trim_ws(),
            &["delivery-status", "disposition-notification", "feedback-report", ""],
        );
    }
    // Up to 500 fields (the usual case) only the values of the fields read
    // below are converted; past that, the first 500 UTF-8 fields as before.
    let few = m.field_count() <= 500;
    let fast = few.then(|| headers::raw_headers_named(m, top_wants)).into_iter().flatten();
    let slow = (!few).then(|| m.headers_raw().take(500)).into_iter().flatten();
    for (name, value) in fast.chain(slow) {
        // lower-case the name in a stack buffer (no allocation per header)
        let mut buf = [0u8; 32];
        let Some(nb) = buf.get_mut(..name.len()) else { continue };
        nb.copy_from_slice(name);
        nb.make_ascii_lowercase();
        // matched as bytes: the name is text already (no UTF-8 check)
        let n: &[u8] = nb;
        match n {
            b"from" => t.from_present = true,
            b"return-path" => {
                if t.null_return_path.is_none() {
                    t.null_return_path = Some(is_null_return_path(value));
                }
            }
            b"auto-submitted" => {
                t.auto_submitted = Some(mime::lower_known(
                    value.trim_ws(),
                    &["auto-replied", "auto-generated", "auto-notified", "no"],
                ))
            }
            b"x-failed-recipients" => {
                t.x_failed_present = true;
                for a in text::find_addresses(value, 50) {
                    if !t.x_failed.contains(&a) {
                        t.x_failed.push(a);
                    }
                }
            }
            b"precedence" => {
                t.precedence = Some(mime::lower_known(
                    value.trim_ws(),
                    &["bulk", "list", "junk", "auto_reply"],
                ))
            }
            b"x-autoreply" | b"x-autorespond" | b"x-autoresponder" | b"x-autogenerated"
            | b"x-auto-reply" | b"x-vacation" => {
                let v = value.trim_ws().to_ascii_lowercase();
                if n == b"x-autogenerated" {
                    if v.contains("reply") {
                        t.x_autoreply = true;
                    }
                } else if v != "no" && v != "false" {
                    t.x_autoreply = true;
                }
            }
            b"list-id" | b"list-unsubscribe" | b"list-post" | b"mailing-list"
            | b"x-mailing-list" => t.list = true,
            b"x-original-message-id" => {
                if t.x_original_message_id.is_none() {
                    t.x_original_message_id = bare_message_id(value);
                }
            }
            b"in-reply-to" => {
                if t.in_reply_to.is_none() {
                    t.in_reply_to = bare_message_id(value);
                }
            }
            b"references" => {
                let ids: Vec<&str> = value.split('<').filter(|s| s.contains('>')).collect();
                if let Some(last) = ids.last() {
                    t.references_last = bare_message_id(&format!("<{}", last));
                }
            }
            _ => {
                if CHALLENGE_HEADERS.iter().any(|c| c.as_bytes() == n) {
                    t.challenge_header = true;
                }
            }
        }
    }
    t
}

/// Everything gathered from the MIME structure.
#[derive(Default)]
struct Parts {
    dsns: Vec<dsn::Dsn>,
    /// How many of `dsns` came from a delivery-status MIME part (not from
    /// DSN-looking lines in a text part).
    mime_dsns: usize,
    arf: bool,
    arf_rcpts: Vec<String>,
    mdn: bool,
    /// Original candidates in priority order with a description of the source.
    originals: Vec<(OrigHeaders, Cow<'static, str>)>,
    text: String,
    html: String,
    has_text_part: bool,
    /// Text of binary message/* parts that failed to parse (scanned for quoted headers).
    extra_text: String,
    /// Sources of more `extra_text` in the top-level message, converted only
    /// when needed (when no attached part gave the original's Message-ID).
    extra_deferred: Vec<Extra>,
    /// Some attached message has an X-HmXmr* header field (among its first
    /// 100 fields with a UTF-8 value).
    nested_hmxmr: bool,
    /// Top-level text/html leaves, decoded only when the HTML is needed.
    html_deferred: Vec<usize>,
}

impl Parts {
    /// Some text/html part was found (decoded or deferred).
    fn has_html(&self) -> bool {
        !self.html.is_empty() || !self.html_deferred.is_empty()
    }
}

/// A deferred piece of `Parts::extra_text` (leaf index in the top-level message, byte cap).
#[derive(Clone, Copy)]
enum Extra {
    Body(usize, usize),
    NestedRaw(usize, usize),
}

fn add_extra(p: &mut Parts, depth: usize, e: Extra, leaves: &[Leaf<'_>]) {
    if depth == 0 {
        p.extra_deferred.push(e);
    } else {
        extra_piece(leaves, e, &mut p.extra_text);
    }
}

fn extra_piece(leaves: &[Leaf<'_>], e: Extra, out: &mut String) {
    let (Extra::Body(i, cap) | Extra::NestedRaw(i, cap)) = e;
    if let Some(leaf) = leaves.get(i) {
        let s = match e {
            Extra::Body(..) if leaf.ctype == "text" => leaf.text(),
            _ => leaf.lossy_prefix(cap),
        };
        push_capped(out, text::truncate_str(&s, cap), MAX_TEXT);
    }
}

/// The full extra text: eager pieces (from re-split broken multiparts) and the deferred ones.
fn extra_text_of(p: &Parts, leaves: &[Leaf<'_>]) -> String {
    let mut out = p.extra_text.clone();
    for e in &p.extra_deferred {
        extra_piece(leaves, *e, &mut out);
    }
    out
}

/// The HTML collected from the parts: eager pieces and the deferred top-level
/// text/html parts (decoded only when the HTML is needed).
fn html_of(p: &Parts, leaves: &[Leaf<'_>]) -> String {
    let mut out = p.html.clone();
    for &i in &p.html_deferred {
        if let Some(leaf) = leaves.get(i) {
            push_capped(&mut out, &leaf.text(), MAX_TEXT * 2);
        }
    }
    out
}

fn push_capped(dst: &mut String, s: &str, cap: usize) {
    if dst.len() >= cap {
        return;
    }
    if !dst.is_empty() {
        dst.push_str("\n\n");
    }
    dst.push_str(text::truncate_str(s, cap.saturating_sub(dst.len())));
}

fn looks_like_header_start(b: &[u8]) -> bool {
    let b = &b[..b.len().min(200)];
    let s = text::lossy(b);
    let first = text::lines(s.trim_start()).next().unwrap_or("");
    match first.find(':') {
        Some(p) => {
            let n = first.get(..p).unwrap_or("");
            !n.is_empty()
                && n.len() < 40
                && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        }
        None => false,
    }
}

/// Does the message have an X-HmXmr* field among the first 100 fields of
/// `headers_raw` (those with a UTF-8 value)?  The values are validated only
/// when some field has such a name.
fn nested_hmxmr(m: &mime::Head<'_>) -> bool {
    let named = |n: &[u8]| n.get(..7).is_some_and(|p| text::eq_ci(p, b"x-hmxmr"));
    if !m.raw_fields().any(|(n, _)| named(n)) {
        return false;
    }
    m.headers_raw().take(100).any(|(n, _)| named(n))
}

fn collect_parts(leaves: &[Leaf<'_>]) -> Parts {
    let mut p = Parts::default();
    collect_parts_into(leaves, &mut p, 0);
    p
}

/// Split the text of a multipart whose boundary was not found (broken MIME)
/// at boundary-looking lines and parse each piece as a MIME entity.
fn resplit_broken_multipart(body: &str, p: &mut Parts, depth: usize) {
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in text::lines(body).take(50_000) {
        let t = line.trim_end();
        let is_boundary = t.starts_with("--")
            && t.len() >= 8
            && !t.contains(' ')
            && t.get(2..)
                .is_some_and(|r| !r.starts_with('-') || r.trim_start_matches('-').len() >= 6);
        if is_boundary {
            if !cur.trim_ws().is_empty() {
                pieces.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    if !cur.trim_ws().is_empty() {
        pieces.push(cur);
    }
    if pieces.len() < 2 {
        // nothing to split: keep as prose
        push_capped(&mut p.text, body, MAX_TEXT);
        p.has_text_part = true;
        return;
    }
    for (i, piece) in pieces.iter().enumerate().take(50) {
        let starts_with_headers = looks_like_header_start(piece.as_bytes());
        if i == 0 && !starts_with_headers {
            // preamble
            continue;
        }
        if !starts_with_headers {
            push_capped(&mut p.text, piece, MAX_TEXT);
            p.has_text_part = true;
            continue;
        }
        match mime::walk(piece.as_bytes()) {
            Some((_, leaves)) => collect_parts_into(&leaves, p, depth + 1),
            None => push_capped(&mut p.text, piece, MAX_TEXT),
        }
    }
}

fn collect_parts_into(leaves: &[Leaf<'_>], p: &mut Parts, depth: usize) {
    for (pi, leaf) in leaves.iter().enumerate().take(500) {
        let (ct, sub, name) = (&*leaf.ctype, &*leaf.subtype, leaf.name.as_str());
        if ct == "multipart" {
            let t = leaf.lossy_prefix(MAX_TEXT * 2);
            if depth < 2 {
                resplit_broken_multipart(&t, p, depth);
            } else {
                push_capped(&mut p.text, &t, MAX_TEXT);
                p.has_text_part = true;
            }
            continue;
        }
        // A part whose MIME header is really the original's header (no blank
        // line between the boundary and a pasted original).
        if depth < 3 && !leaf.is_root && leaf.header_has_message_id {
            p.originals.push((
                headers::from_header_block(leaf.header_raw),
                "the original's header lines pasted as a MIME part header".into(),
            ));
        }
        match (ct, sub) {
            ("message", "delivery-status")
            | ("message", "global-delivery-status")
            | ("text", "delivery-status") => {
                let s = leaf.lossy_prefix(256 * 1024);
                p.dsns.push(dsn::parse(&s));
                p.mime_dsns += 1;
                // broken MIME can leave the original's headers inside this part
                add_extra(p, depth, Extra::Body(pi, 256 * 1024), leaves);
            }
            ("message", "feedback-report") => {
                p.arf = true;
                let s = leaf.lossy_prefix(64 * 1024);
                for l in text::lines(&s) {
                    if text::starts_with_ci(l, "original-rcpt-to:")
                        || text::starts_with_ci(l, "removal-recipient:")
                    {
                        for a in text::find_addresses(l, 5) {
                            if !p.arf_rcpts.contains(&a) {
                                p.arf_rcpts.push(a);
                            }
                        }
                    }
                }
            }
            ("message", "disposition-notification")
            | ("message", "global-disposition-notification") => p.mdn = true,
            ("message", "rfc822") | ("message", "global") => {
                let raw = leaf.bytes();
                let raw = &raw[..raw.len().min(256 * 1024)];
                let nested = mime::header_message(raw);
                let mut h = nested.as_ref().map(headers::from_message).unwrap_or_default();
                if h.message_id.is_none() {
                    // e.g. a blank line before the attached headers: read the raw part again
                    let h2 = headers::from_header_block(raw);
                    if h2.message_id.is_some() {
                        h = h2;
                    } else {
                        add_extra(p, depth, Extra::NestedRaw(pi, 256 * 1024), leaves);
                    }
                }
                if let Some(n) = &nested {
                    p.nested_hmxmr |= nested_hmxmr(n);
                }
                p.originals.push((h, "the attached original message (message/rfc822)".into()));
            }
            ("text", "rfc822-headers")
            | ("message", "rfc822-headers")
            | ("message", "global-headers")
            | ("message", "partial")
            | ("text", "rfc822")
            | ("message", "headers") => {
                let b = leaf.contents();
                let b = text::truncate_str(&b, 256 * 1024);
                p.originals.push((
                    headers::from_header_block(b.as_bytes()),
                    "the attached original headers".into(),
                ));
                add_extra(p, depth, Extra::Body(pi, 256 * 1024), leaves);
            }
            ("text", "html") => {
                // converted to text later, only if it is needed
                if depth == 0 {
                    p.html_deferred.push(pi);
                } else {
                    push_capped(&mut p.html, &leaf.text(), MAX_TEXT * 2);
                }
            }
            ("text", _) | ("message", _) => {
                let s = if ct == "text" { leaf.text() } else { leaf.lossy_prefix(MAX_TEXT) };
                // The original attached as text/plain: a later text part that
                // is a whole message (a header block with a Message-ID), not
                // the notice's prose.
                if p.has_text_part
                    && sub == "plain"
                    && !leaf.is_root
                    && looks_like_header_start(s.as_bytes())
                {
                    let h = headers::from_header_str(text::truncate_str(&s, 256 * 1024));
                    if h.message_id.is_some() && (h.from.is_some() || h.subject.is_some()) {
                        p.originals.push((
                            h,
                            "an attached copy of the original message (text/plain)".into(),
                        ));
                        continue;
                    }
                }
                if dsn::looks_like_dsn(&s) {
                    p.dsns.push(dsn::parse(text::truncate_str(&s, 256 * 1024)));
                }
                p.has_text_part = true;
                push_capped(&mut p.text, &s, MAX_TEXT);
            }
            _ => {
                // An attached original as application/octet-stream (*.eml) etc.
                if (name.ends_with(".eml") || name.ends_with(".txt") || name.is_empty())
                    && looks_like_header_start(&leaf.bytes_prefix(200))
                {
                    let b = leaf.bytes();
                    let b = &b[..b.len().min(256 * 1024)];
                    p.originals.push((
                        headers::from_header_block(b),
                        "an attached copy of the original message".into(),
                    ));
                }
            }
        }
    }
}

/// Top-level verdict helpers.
fn is_reply_or_forward(subject_lower: &str) -> bool {
    let s = subject_lower.trim_start();
    let s = strip_list_tag(s);
    [
        "re:", "re :", "aw:", "fw:", "fwd:", "wg:", "tr:", "rv:", "sv:", "vs:", "antw:", "odp:",
        "ynt:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

fn strip_list_tag(s: &str) -> &str {
    let s = s.trim_start();
    if s.starts_with('[') {
        if let Some(e) = s.find(']') {
            return s.get(e + 1..).unwrap_or("").trim_start();
        }
    }
    s
}

const DAEMON_LOCALS: &[&str] = &[
    "mailer-daemon",
    "mailer_daemon",
    "mailerdaemon",
    "mail-daemon",
    "maildaemon",
    "postmaster",
    "mdaemon",
    "mail.daemon",
    "mailadmin",
    "mail-admin",
    "mailerd",
    "smtp",
    "mail-delivery-subsystem",
    "mmdf",
    "mailsystem",
    "mail-system",
    "post_master",
    "post-master",
    "postmaster-daemon",
    "mail.delivery.system",
    "maildeliverysystem",
    "mailer-daemon-noreply",
];

/// Local parts of mailing-list robots (rejections such as "you are not a member").
const LIST_ROBOT_LOCALS: &[&str] = &[
    "majordomo",
    "listserv",
    "listproc",
    "mailman",
    "ecartis",
    "sympa",
    "lyris",
    "smartlist",
    "fml",
];

const DAEMON_NAMES: &[&str] = &[
    "mail delivery",
    "mailer-daemon",
    "mailer daemon",
    "postmaster",
    "mail administrator",
    "mail system",
    "delivery subsystem",
    "delivery system",
    "mail delivery system",
    "mailsystem",
    "systemadministrator",
    "system administrator",
    "mail-daemon",
    "mail daemon",
    "mdaemon",
    "microsoft outlook",
    "microsoft exchange",
    "mail delivery subsystem",
    "mail gateway",
    "e-mail gateway",
    "email gateway",
    "internet mail delivery",
    "notes mail router",
    "mail router",
];

const GATEWAY_NAMES: &[&str] = &[
    "antivirus",
    "anti-virus",
    "virus",
    "mailscanner",
    "scanmail",
    "interscan",
    "amavis",
    "clamav",
    "mailsweeper",
    "gwava",
    "content filter",
    "quarantine",
    "email security",
    "mail security",
    "barracuda",
    "mimecast",
    "messagelabs",
    "trend micro",
    "mcafee",
    "sophos",
    "symantec",
    "proofpoint",
    "ironport",
    "mailmarshal",
    "surfcontrol",
    "fortimail",
    "kaspersky",
    "eset",
    "bitdefender",
    "mailfoundry",
    "spam filter",
];

struct Sig {
    daemon: bool,
    /// From is a mail-system account by its address (MAILER-DAEMON, postmaster ...) or empty,
    /// not only by its display name.
    daemon_addr: bool,
    /// From is MAILER-DAEMON-like (never a person, unlike postmaster@).
    mailer_daemon: bool,
    list_robot: bool,
    null_rp: bool,
    auto_generated: bool,
    auto_replied: bool,
    gateway: bool,
}

/// Does a Return-Path value name the null sender or a mailer daemon?
fn is_null_return_path(value: &str) -> bool {
    // without angle brackets, compared ignoring ASCII case (lower-casing
    // moves no white space or brackets)
    let inner = value.trim_ws().trim_start_matches('<').trim_end_matches('>').trim_ws();
    inner.is_empty()
        || text::starts_with_ci(inner, "mailer-daemon")
        || text::starts_with_ci(inner, "mailer_daemon")
        || text::eq_ci(inner.as_bytes(), b"postmaster")
        || text::eq_ci(inner.as_bytes(), b"mdaemon")
}

fn sender_signals(t: &TopHeaders) -> Sig {
    let local = t
        .from_addr
        .as_deref()
        .and_then(|a| a.rsplit_once('@').map(|x| x.0))
        .unwrap_or(t.from_addr.as_deref().unwrap_or(""));
    let daemon_local = DAEMON_LOCALS.contains(&local)
        || local.starts_with("mailer-daemon")
        || local.starts_with("mailer_daemon")
        || local.starts_with("postmaster")
        || local.starts_with("mail-daemon")
        || local.starts_with("maildelivery")
        || local.starts_with("mail.delivery")
        || local.starts_with("mdaemon");
    let name = t.from_display.as_str();
    let daemon_name = !name.is_empty() && contains_any(name, &DAEMON_NEEDLES);
    let null_rp = t.null_return_path == Some(true);
    let asub = t.auto_submitted.as_deref().unwrap_or("no");
    let auto = !asub.is_empty() && !asub.starts_with("no");
    let gateway = contains_any(name, &GATEWAY_NEEDLES) || contains_any(local, &GATEWAY_NEEDLES);
    // "From: <>" (null sender in the From field) is used by some gateways.
    let null_from = t.from_present && t.from_addr.as_deref().is_none_or(|a| a.trim_ws().is_empty());
    let list_robot = LIST_ROBOT_LOCALS.contains(&local)
        || local.ends_with("-admin")
        || local.ends_with("-owner")
        || local.ends_with("-request")
        || local.starts_with("owner-")
        || local.ends_with("-bounces");
    // "Chris Novak (Example.org postmaster)" <postmaster@...> is a person
    // writing from the postmaster account, not the mail system.
    // (only asked when it matters)
    let person = (daemon_local || daemon_name) && person_display(name);
    let daemon_local = daemon_local && !person;
    let daemon_name = daemon_name && !person;
    let mailer_daemon = local.starts_with("mailer")
        || local.starts_with("mail-daemon")
        || local.starts_with("maildaemon")
        || local.starts_with("mail-delivery")
        || local.starts_with("maildelivery")
        || null_from;
    Sig {
        daemon: daemon_local || daemon_name || null_from,
        daemon_addr: daemon_local || null_from,
        mailer_daemon,
        list_robot,
        null_rp,
        auto_generated: auto && !asub.starts_with("auto-replied"),
        auto_replied: asub.starts_with("auto-replied"),
        gateway,
    }
}

/// Substring test for short haystacks (display names, local parts): no
/// searcher set-up, first-byte filter.
fn has_sub(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&f) = n.first() else { return true };
    h.len() >= n.len() && (0..=h.len() - n.len()).any(|i| h[i] == f && &h[i..i + n.len()] == n)
}

/// A list of needles for [`contains_any`], with per hashed byte pair the
/// bit set of the needles whose first (and whose last) two bytes hash there.
struct Needles {
    list: &'static [&'static str],
    first: [u64; 256],
    last: [u64; 256],
    /// The needles shorter than two bytes (always searched).
    short: u64,
}

/// The hash of a byte pair (256 slots).
const fn pair(a: u8, b: u8) -> usize {
    ((a as usize) << 3 ^ b as usize) & 255
}

const fn needles(list: &'static [&'static str]) -> Needles {
    assert!(list.len() <= 64);
    let (mut first, mut last, mut short) = ([0u64; 256], [0u64; 256], 0u64);
    let mut i = 0;
    while i < list.len() {
        let b = list[i].as_bytes();
        if b.len() < 2 {
            short |= 1 << i;
        } else {
            first[pair(b[0], b[1])] |= 1 << i;
            last[pair(b[b.len() - 2], b[b.len() - 1])] |= 1 << i;
        }
        i += 1;
    }
    Needles { list, first, last, short }
}

static DAEMON_NEEDLES: Needles = needles(DAEMON_NAMES);
static GATEWAY_NEEDLES: Needles = needles(GATEWAY_NAMES);

/// Does the short haystack `hay` contain one of the needles?  One pass over
/// its byte pairs gathers the needles whose first and last pairs both occur
/// in it; only those are searched for (most haystacks leave none).
fn contains_any(hay: &str, set: &Needles) -> bool {
    let (mut first, mut last) = (set.short, set.short);
    for w in hay.as_bytes().windows(2) {
        let k = pair(w[0], w[1]);
        first |= set.first[k];
        last |= set.last[k];
    }
    let mut cands = first & last;
    while cands != 0 {
        let i = cands.trailing_zeros() as usize;
        cands &= cands - 1;
        if set.list.get(i).is_some_and(|n| has_sub(hay, n)) {
            return true;
        }
    }
    false
}

/// Words that mark a display name as a role or a machine, not a person.
const SYSTEM_WORDS: &[&str] = &[
    "mail",
    "e-mail",
    "email",
    "mailer",
    "daemon",
    "postmaster",
    "system",
    "systems",
    "admin",
    "administrator",
    "delivery",
    "server",
    "service",
    "services",
    "notification",
    "notifications",
    "notice",
    "support",
    "team",
    "filter",
    "firewall",
    "gateway",
    "security",
    "router",
    "robot",
    "bot",
    "noreply",
    "no-reply",
    "do-not-reply",
    "automated",
    "auto",
    "subsystem",
    "agent",
    "transport",
    "exchange",
    "outlook",
    "microsoft",
    "office",
    "internet",
    "network",
    "messaging",
    "scanner",
    "interscan",
    "quarantine",
    "abuse",
    "hostmaster",
    "webmaster",
    "mx",
    "smtp",
];

/// Does the From display name look like a person's name ("Chris Novak",
/// "Chris (Example.org postmaster)")?  Parenthesised comments are ignored.
fn person_display(name: &str) -> bool {
    // the name outside parentheses (the name itself when it has none)
    let outside: Cow<'_, str> = if name.contains('(') {
        let mut outside = String::with_capacity(name.len());
        let mut depth = 0u32;
        for ch in name.chars() {
            match ch {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                _ if depth == 0 => outside.push(ch),
                _ => {}
            }
        }
        Cow::Owned(outside)
    } else {
        Cow::Borrowed(name)
    };
    // up to six words (more than five fail anyway)
    let mut buf = [""; 6];
    let mut n = 0;
    for w in outside
        .split(|c: char| c.is_whitespace() || c == ',' || c == '"' || c == '\'')
        .filter(|w| !w.is_empty())
        .take(6)
    {
        buf[n] = w;
        n += 1;
    }
    let words = &buf[..n];
    !words.is_empty()
        && words.len() <= 5
        && words.iter().all(|w| {
            w.chars().all(|c| c.is_alphabetic() || c == '-' || c == '.')
                && !w.contains('@')
                && !w.contains('.')
                || w.len() <= 2 && w.ends_with('.')
        })
        && words.iter().all(|w| !SYSTEM_WORDS.contains(w))
        && !{ contains_any(&outside, &DAEMON_NEEDLES) || contains_any(&outside, &GATEWAY_NEEDLES) }
}

fn dsn_kind(dsns: &[dsn::Dsn]) -> Option<(Kind, &'static str)> {
    let mut failed = false;
    let mut delayed = false;
    let mut success = false;
    let mut any = false;
    for r in dsns.iter().flat_map(|d| d.recipients.iter()) {
        any = true;
        let action = r.action.as_deref().unwrap_or("");
        let st = r.status.as_deref().unwrap_or("");
        if action.starts_with("fail")
            || action.starts_with("undeliver")
            || action.starts_with("reject")
            || action.starts_with("bounce")
            || action == "deleted"
        {
            failed = true;
        } else if action.starts_with("delay")
            || action.starts_with("defer")
            || action.starts_with("retry")
        {
            delayed = true;
        } else if action.starts_with("deliver")
            || action.starts_with("relay")
            || action.starts_with("expand")
        {
            success = true;
        } else if st.starts_with('5') {
            failed = true;
        } else if st.starts_with('4') {
            delayed = true;
        } else if st.starts_with('2') {
            success = true;
        }
    }
    if !any {
        return None;
    }
    if failed {
        Some((Kind::DeliveryFailure, "failed"))
    } else if delayed {
        Some((Kind::DeliveryDelay, "delayed"))
    } else if success {
        Some((Kind::DeliverySuccess, "delivered/relayed"))
    } else {
        None
    }
}

fn analyze_inner(raw: &[u8]) -> Analysis {
    let mut a = Analysis::empty();
    let raw = if raw.len() > MAX_INPUT {
        a.warnings.push(format!(
            "message is larger than {} bytes; only the beginning was analysed",
            MAX_INPUT
        ));
        raw.get(..MAX_INPUT).unwrap_or(raw)
    } else {
        raw
    };
    let normalized = normalize_line_endings(raw);
    if normalized.is_some() {
        a.warnings.push("message uses bare CR line endings; normalised".into());
    }
    let data: &[u8] = normalized.as_deref().unwrap_or(raw);
    let (msg, leaves) = match mime::walk(data) {
        Some(m) => m,
        None => {
            a.warnings.push("no message header found".into());
            return a;
        }
    };
    let g = gate(&msg);
    if !g.pass {
        return a;
    }
    let Gate { top, sig, subj_lower, subj_hits, ar_header, .. } = g;
    let mut parts = collect_parts(&leaves);

    let html_text: String =
        if (!parts.has_text_part || parts.text.trim_ws().is_empty()) && parts.has_html() {
            text::html_to_text(&html_of(&parts, &leaves), MAX_TEXT)
        } else {
            String::new()
        };
    let prose_src: &str = if parts.has_text_part && !parts.text.trim_ws().is_empty() {
        &parts.text
    } else if !html_text.is_empty() {
        &html_text
    } else {
        &parts.text
    };
    let prose_end = prose_region_end(prose_src);
    let prose = text::truncate_str(prose_src, prose_end);
    let scan_src = text::truncate_str(prose, MAX_PHRASE_SCAN);
    // A delivery-status MIME part with per-recipient actions settles the
    // kind (unless this is a read receipt or a feedback report): then the
    // prose is scanned only if a status or diagnostic is still missing.
    let settled = parts.mime_dsns > 0
        && !parts.mdn
        && !parts.arf
        && top.report_type != "disposition-notification"
        && top.report_type != "feedback-report"
        && dsn_kind(&parts.dsns).is_some();
    let mut lower = String::new();
    let mut body_hits = Hits::default();
    if !settled {
        lower = text::lowercase(scan_src);
        text::scan_phrases(&lower, &mut body_hits);
    }
    let reply_subject = is_reply_or_forward(&subj_lower);

    // ---- SES JSON notifications ----
    let ses = if parts.dsns.is_empty() && prose_src.trim_start().starts_with('{') {
        ses::parse(prose_src)
    } else {
        None
    };

    // ---- original message recovery ----
    let own = top.own_id.as_deref();
    let has_attached = !parts.originals.is_empty();
    let mut orig_sources: Vec<(OrigHeaders, Cow<'static, str>)> =
        std::mem::take(&mut parts.originals);
    if let Some(id) = parts.dsns.iter().find_map(|d| d.message.x_original_message_id.clone()) {
        orig_sources.push((
            OrigHeaders { message_id: Some(id), ..Default::default() },
            "the X-Original-Message-ID field of the delivery report".into(),
        ));
    }
    if let Some(id) = top.x_original_message_id.clone() {
        orig_sources.push((
            OrigHeaders { message_id: Some(id), ..Default::default() },
            "the bounce's X-Original-Message-ID header".into(),
        ));
    }
    // Quoted header lines are only needed when no attached part gave a Message-ID.
    let have_id =
        orig_sources.iter().any(|(h, _)| h.message_id.as_deref().is_some_and(|id| Some(id) != own));
    let quoted = if have_id { None } else { headers::find_quoted(prose_src, own, MAX_QUOTE_LINES) }
        .or_else(|| {
            if have_id {
                None
            } else {
                headers::find_quoted(&extra_text_of(&parts, &leaves), own, MAX_QUOTE_LINES)
            }
        })
        .or_else(|| {
            if have_id || !parts.has_html() || !html_text.is_empty() {
                None
            } else {
                headers::find_quoted(
                    &text::html_to_text(&html_of(&parts, &leaves), MAX_TEXT),
                    own,
                    MAX_QUOTE_LINES,
                )
            }
        });
    if let Some(q) = quoted {
        let src = if q.anchor == "message-id" {
            "header lines quoted in the bounce text"
        } else {
            "a header block quoted in the bounce text"
        };
        orig_sources.push((q.headers, src.into()));
    }
    if let Some(s) = &ses {
        orig_sources.push((s.orig.clone(), "the JSON notification (mail.messageId)".into()));
    }

    // ---- kind ----
    let dk = dsn_kind(&parts.dsns);
    let has_orig = orig_sources.iter().any(|(h, _)| !h.is_empty());
    let mut prose_status = if settled {
        None
    } else {
        text::find_enhanced_status(text::truncate_str(prose, 32 * 1024))
    };
    let mut smtp_reply =
        if settled { None } else { text::find_smtp_reply(text::truncate_str(&lower, 32 * 1024)) };
    let body_fail = body_hits.has(Cat::Failure);
    let body_reason = body_hits.has(Cat::Reason);
    let subj_bounce = !reply_subject
        && (subj_hits.phrase(Cat::Failure).is_some_and(|p| !WEAK_FAIL.contains(&p))
            || subj_hits.n(Cat::Failure) > 1
            || subj_hits.has(Cat::Delay));
    let body_fail_strong = body_hits.phrase(Cat::Failure).is_some_and(|p| !WEAK_FAIL.contains(&p))
        || body_hits.n(Cat::Failure) > 1;
    let has_code = prose_status.is_some() || smtp_reply.is_some();

    let challenge_body = body_hits.n(Cat::Challenge) > 0;
    let challenge_subj =
        subj_hits.phrase(Cat::Challenge).is_some_and(|p| !WEAK_CHALLENGE.contains(&p))
            && !reply_subject;
    let virus_subj = subj_hits.has(Cat::Virus) && !reply_subject;
    let virus_body_strong = body_hits.phrase(Cat::Virus).is_some_and(|p| {
        p != "virus" && p != "antivirus" && p != "anti-virus" && p != "quarantine"
    });
    let ar_subj = subj_hits.has(Cat::AutoReply) && !reply_subject;
    let feedback_like = has_attached
        && (subj_hits.has(Cat::Feedback) || body_hits.has(Cat::Feedback))
        && !reply_subject
        && (parts.nested_hmxmr || {
            let local = top.from_addr.as_deref().and_then(|a| a.split('@').next()).unwrap_or("");
            [
                "staff",
                "abuse",
                "fbl",
                "feedback",
                "feedbackloop",
                "complaints",
                "complaint",
                "scomp",
                "postmaster",
                "spam",
                "report",
                "reports",
            ]
            .contains(&local)
        });
    let bouncey = sig.daemon || sig.null_rp || sig.auto_generated || top.x_failed_present;
    // Structure a person's reply never has.
    let mime_structure = top.ct_sub == "report"
        || !top.report_type.is_empty()
        || parts.mime_dsns > 0
        || top.x_failed_present
        || has_attached
        || parts.arf
        || ses.is_some();
    let conversation_reply =
        reply_subject && (top.in_reply_to.is_some() || top.references_last.is_some());
    // MTA wording ("could not be delivered to the following recipients") at
    // the start of the text, not somewhere in a conversation.
    let opening_mta = body_hits.mta_pos.is_some_and(|p| (p as usize) < OPENING_BYTES);
    let code_rcpt_cell: std::cell::OnceCell<bool> = std::cell::OnceCell::new();
    let code_rcpt = || *code_rcpt_cell.get_or_init(|| code_near_address(prose, &top));
    let human_reply = conversation_reply
        && !mime_structure
        && !sig.null_rp
        && !sig.mailer_daemon
        && !ar_header
        && !top.challenge_header
        && !code_rcpt();

    let mut ev: Vec<String> = Vec::new();
    let describe_sender = |ev: &mut Vec<String>| {
        if sig.daemon {
            ev.push(cat(&[
                "sent by a mail system account (",
                top.from_addr.as_deref().unwrap_or("?"),
                ")",
            ]));
        }
        if sig.null_rp {
            ev.push("empty return path (<>), as used by bounces".into());
        }
        if sig.auto_generated {
            ev.push(cat(&["Auto-Submitted: ", top.auto_submitted.as_deref().unwrap_or("")]));
        }
    };

    let fail_or_delay = |prose_status: &Option<String>| -> Kind {
        let st5 = prose_status.as_deref().is_some_and(|s| s.starts_with('5'))
            || smtp_reply.is_some_and(|(c, _)| c >= 500);
        let delay_strong = body_hits.phrase(Cat::Delay).is_some_and(|p| p != "delayed");
        // (searched only when the body's delay phrase is strong)
        let permanent = || {
            lower.contains("permanent")
                || lower.contains("giving up")
                || lower.contains("gave up")
                || lower.contains("has been returned")
                || lower.contains("could not be delivered")
        };
        let delay_subject = subj_hits.has(Cat::Delay) && !subj_lower.contains("fail");
        let delay_body = delay_strong && !subj_hits.has(Cat::Failure) && !permanent();
        if !st5 && (delay_subject || delay_body) {
            Kind::DeliveryDelay
        } else if (subj_hits.has(Cat::Success) || body_hits.has(Cat::Success))
            && !body_fail
            && !body_reason
            && !st5
        {
            Kind::DeliverySuccess
        } else {
            Kind::DeliveryFailure
        }
    };

    let kind: Kind;
    if top.report_type == "disposition-notification" || (parts.mdn && dk.is_none()) {
        ev.push("read receipt (message disposition notification), not a bounce".into());
        kind = Kind::NotBounce;
    } else if top.report_type == "feedback-report" || parts.arf {
        ev.push(
            "abuse/feedback report (RFC 5965 multipart/report; report-type=feedback-report)".into(),
        );
        kind = Kind::FeedbackReport;
    } else if human_reply {
        ev.push("a reply in a conversation (\"Re:\" subject with In-Reply-To/References) without any delivery-report structure: written by a person".into());
        kind = Kind::NotBounce;
    } else if let Some((k, act)) = dk.filter(|_| {
        // DSN fields found only in the text (no delivery-status part): a
        // report when something else says so; else a person quoting one
        parts.mime_dsns > 0 || bouncey || mime_structure || subj_bounce
    }) {
        ev.push(cat(&["standard delivery status report (RFC 3464): recipient action ", act]));
        kind = k;
    } else if let Some(s) = &ses {
        ev.push(cat(&["Amazon SES JSON notification of type ", &s.notification_type]));
        kind = s.kind;
    } else if feedback_like {
        ev.push("spam complaint report with the reported message attached".into());
        kind = Kind::FeedbackReport;
    } else if top.x_failed_present && !(ar_header && !sig.daemon && !sig.null_rp) {
        ev.push("X-Failed-Recipients header present".into());
        describe_sender(&mut ev);
        kind = fail_or_delay(&prose_status);
    } else if ar_subj
        && !subj_bounce
        && (ar_header
            || sig.null_rp
            || sig.auto_generated
            || (body_hits.has(Cat::AutoReply) && auto_reply_form(&subj_lower, &subj_hits, &top)))
        && !top.challenge_header
        && !challenge_subj
    {
        ev.push(cat_debug(
            "subject looks like an automatic reply (",
            subj_hits.phrase(Cat::AutoReply).unwrap_or(""),
            ")",
        ));
        if ar_header {
            ev.push("automatic-reply header present".into());
        }
        kind = Kind::AutoReply;
    } else if top.challenge_header
        || (challenge_subj && !top.list)
        || (challenge_body
            && !top.list
            && (bouncey || ar_header || !reply_subject && top.precedence.is_some())
            && challenge_strong(&body_hits, &lower))
    {
        ev.push(if top.challenge_header {
            "challenge-response system header present".to_string()
        } else {
            cat_debug(
                "asks the sender to verify themselves (",
                body_hits.phrase(Cat::Challenge).or(subj_hits.phrase(Cat::Challenge)).unwrap_or(""),
                ")",
            )
        });
        kind = Kind::ChallengeResponse;
    } else if (virus_subj || virus_body_strong)
        && (bouncey || sig.gateway || ar_header)
        && !reply_subject
        && (virus_subj || !body_fail || sig.gateway)
    {
        ev.push(cat_debug(
            "virus/content-filter notice (",
            subj_hits.phrase(Cat::Virus).or(body_hits.phrase(Cat::Virus)).unwrap_or(""),
            ")",
        ));
        describe_sender(&mut ev);
        kind = Kind::VirusNotice;
    } else if (sig.daemon_addr
        && (subj_bounce || has_code || has_orig || (body_fail_strong && body_reason)))
        || (sig.daemon
            && !sig.daemon_addr
            && ((subj_bounce && (opening_mta || has_orig || code_rcpt()))
                || (has_orig && (body_fail || has_code))
                || code_rcpt()
                || (opening_mta && body_reason)))
        || (sig.null_rp
            && (subj_bounce
                || (body_fail && (has_orig || has_code))
                || (opening_mta && body_reason)
                || (has_orig && has_code)))
        || ((sig.auto_generated || sig.gateway)
            && (((subj_bounce || body_fail) && (has_orig || code_rcpt()))
                || (has_orig && has_code)))
        || (subj_bounce && !top.list && body_fail_strong && (has_orig || code_rcpt()))
        || (sig.list_robot
            && !reply_subject
            && (subj_bounce
                || body_hits.phrase(Cat::Failure).is_some_and(|p| {
                    p.contains("member") || p.contains("post") || p.contains("moderat")
                })))
        || (top.ct_sub == "report"
            && top.report_type.contains("delivery")
            && (body_fail || has_orig))
    {
        describe_sender(&mut ev);
        if subj_bounce {
            ev.push(cat_debug(
                "subject says delivery problem (",
                subj_hits.phrase(Cat::Failure).or(subj_hits.phrase(Cat::Delay)).unwrap_or(""),
                ")",
            ));
        }
        if let Some(p) = body_hits.phrase(Cat::Failure) {
            ev.push(cat_debug("text says ", p, ""));
        }
        kind = fail_or_delay(&prose_status);
    } else if ar_header
        || (ar_subj
            && !top.list
            && !reply_subject
            && auto_reply_form(&subj_lower, &subj_hits, &top))
    {
        ev.push(
            "automatic reply (RFC 3834 Auto-Submitted / X-Autoreply / Precedence or subject)"
                .into(),
        );
        kind = Kind::AutoReply;
    } else {
        kind = Kind::NotBounce;
    }
    a.kind = kind;
    if kind == Kind::NotBounce {
        a.evidence = ev;
        return a;
    }

    // ---- fill in the original ----
    let mut o = Original::default();
    let mut id_source: Option<String> = None;
    for (h, src) in &orig_sources {
        if let Some(id) = &h.message_id {
            if o.message_id.is_some() {
                break;
            }
            if Some(id.as_str()) != own {
                o.message_id = Some(id.clone());
                id_source = Some(src.to_string());
            } else if (h.subject.is_some() && h.subject != top.subject)
                || h.from.as_deref().is_some_and(|f| {
                    !f.to_ascii_lowercase().contains(top.from_addr.as_deref().unwrap_or("\u{0}"))
                })
            {
                // The copied original really carries the same Message-ID as the
                // bounce (some MTAs reuse it); its other headers differ from the
                // bounce's own, so this is not the bounce's own header.
                o.message_id = Some(id.clone());
                id_source = Some(cat(&[src, " (the bounce reuses the same Message-ID)"]));
            }
        }
    }
    // Prefer the other fields from the source of the message id, then any.
    let id_src = orig_sources
        .iter()
        .position(|(h, _)| h.message_id.is_some() && h.message_id == o.message_id);
    let order: Vec<usize> = id_src.into_iter().chain(0..orig_sources.len()).collect();
    // the first source that has each field gives it (moved out: the sources'
    // subject, from, date and received are not read again)
    for &i in &order {
        let Some((h, _)) = orig_sources.get_mut(i) else { continue };
        if o.subject.is_none() {
            o.subject = h.subject.take();
        }
        if o.from.is_none() {
            o.from = h.from.take();
        }
        if o.date.is_none() {
            o.date = h.take_date();
        }
        if o.received.is_empty() {
            o.received = h.take_received();
        }
    }
    let ordered: Vec<&OrigHeaders> =
        order.iter().filter_map(|&i| orig_sources.get(i).map(|(h, _)| h)).collect();
    if o.subject.is_none() {
        o.subject = match kind {
            Kind::AutoReply | Kind::ChallengeResponse => {
                auto_reply_original_subject(top.subject.as_deref().unwrap_or(""))
            }
            _ => None,
        }
        .or_else(|| prose_subject(prose));
    }
    if o.message_id.is_none() {
        let last_resort = top.in_reply_to.clone().or(top.references_last.clone());
        if let Some(id) = last_resort.filter(|id| Some(id.as_str()) != own) {
            o.message_id = Some(id);
            id_source = Some(
                "the bounce's own In-Reply-To/References header (last resort; less reliable)"
                    .into(),
            );
        }
    }
    match &id_source {
        Some(s) => ev.push(cat(&["original Message-ID taken from ", s])),
        None => ev.push("no Message-ID of the original message found".into()),
    }

    // recipients
    let mut rcpts: Vec<String> = Vec::new();
    let add = |r: &mut Vec<String>, x: &str| {
        if let Some(n) = text::normalize_address(x) {
            if r.len() < 100 && !r.iter().any(|y| text::eq_ci(y.as_bytes(), n.as_bytes())) {
                r.push(n);
            }
        }
    };
    for d in &parts.dsns {
        for r in &d.recipients {
            if let Some(x) = r.final_recipient.as_deref().or(r.original_recipient.as_deref()) {
                add(&mut rcpts, x);
            }
        }
    }
    for x in &top.x_failed {
        add(&mut rcpts, x);
    }
    for x in &parts.arf_rcpts {
        add(&mut rcpts, x);
    }
    if let Some(s) = &ses {
        for x in &s.recipients {
            add(&mut rcpts, x);
        }
    }
    if rcpts.is_empty()
        && matches!(
            kind,
            Kind::DeliveryFailure | Kind::DeliveryDelay | Kind::DeliverySuccess | Kind::VirusNotice
        )
    {
        for x in prose_recipients(prose, &top, &msg) {
            add(&mut rcpts, &x);
        }
    }
    if rcpts.is_empty() {
        if matches!(kind, Kind::AutoReply | Kind::ChallengeResponse) {
            // The replier is the one the original was sent to: the attached
            // original's To, else the sender of the reply.
            for h in &ordered {
                for x in &h.to {
                    add(&mut rcpts, x);
                }
                if !rcpts.is_empty() {
                    break;
                }
            }
            if rcpts.is_empty() {
                if let Some(f) = &top.from_addr {
                    add(&mut rcpts, f);
                }
            }
        } else {
            for h in &ordered {
                for x in &h.to {
                    add(&mut rcpts, x);
                }
                if !rcpts.is_empty() {
                    break;
                }
            }
        }
    }
    o.recipients = rcpts;

    // status & diagnostic
    let first_bad = parts
        .dsns
        .iter()
        .flat_map(|d| d.recipients.iter())
        .find(|r| {
            r.action.as_deref().is_some_and(|x| x.starts_with("fail") || x.starts_with("delay"))
        })
        .or_else(|| parts.dsns.iter().flat_map(|d| d.recipients.iter()).next());
    a.status = first_bad
        .and_then(|r| r.status.clone())
        .filter(|s| text::find_enhanced_status(s).is_some());
    a.diagnostic =
        first_bad.and_then(|r| r.diagnostic_code.clone()).filter(|s| !s.trim_ws().is_empty());
    if a.status.is_none() {
        a.status = a.diagnostic.as_deref().and_then(text::find_enhanced_status);
    }
    if let Some(s) = &ses {
        if a.status.is_none() {
            a.status = s.status.clone();
        }
        if a.diagnostic.is_none() {
            a.diagnostic = s.diagnostic.clone();
        }
    }
    if settled && (a.status.is_none() || a.diagnostic.is_none()) {
        // skipped above; needed now
        lower = text::lowercase(scan_src);
        prose_status = text::find_enhanced_status(text::truncate_str(prose, 32 * 1024));
        smtp_reply = text::find_smtp_reply(text::truncate_str(&lower, 32 * 1024));
    }
    if a.status.is_none()
        && matches!(
            kind,
            Kind::DeliveryFailure | Kind::DeliveryDelay | Kind::DeliverySuccess | Kind::VirusNotice
        )
    {
        a.status = prose_status.clone();
    }
    if a.diagnostic.is_none()
        && matches!(kind, Kind::DeliveryFailure | Kind::DeliveryDelay | Kind::VirusNotice)
    {
        a.diagnostic = prose_diagnostic(prose, &lower, smtp_reply, prose_status.as_deref());
    }
    a.diagnostic = a.diagnostic.map(|d| text::squash_ws_owned(d, 500));
    a.reporting_mta =
        parts.dsns.iter().find_map(|d| d.message.reporting_mta.clone()).filter(|s| !s.is_empty());
    a.recipients_detail =
        parts.dsns.into_iter().flat_map(|d| d.recipients.into_iter()).take(100).collect();
    a.original = o;
    a.evidence = ev;
    a
}

/// The concatenation of `parts` (`format!` with `{}` arguments, without its machinery).
fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `format!("{before}{s:?}{after}")`: printable ASCII without quotes or
/// backslashes is its own Debug form between double quotes.
fn cat_debug(before: &str, s: &str, after: &str) -> String {
    /// Printable ASCII other than '"' and '\\'.
    static PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0x20;
        while c < 0x7F {
            t[c] = c != b'"' as usize && c != b'\\' as usize;
            c += 1;
        }
        t
    };
    if text::all_bytes_in(s.as_bytes(), &PLAIN) {
        cat(&[before, "\"", s, "\"", after])
    } else {
        format!("{before}{s:?}{after}")
    }
}

const WEAK_CHALLENGE: &[&str] = &[
    "whitelist",
    "tmda",
    "sendio",
    "bluebottle",
    "approved sender",
    "boxbe",
    "challenge response",
    "challenge-response",
    "sender verification",
];

fn challenge_strong(h: &Hits, lower: &str) -> bool {
    match h.phrase(Cat::Challenge) {
        Some("whitelist")
        | Some("tmda")
        | Some("sendio")
        | Some("bluebottle")
        | Some("approved sender") => {
            lower.contains("verif") || lower.contains("confirm") || lower.contains("reply to this")
        }
        Some(_) => true,
        None => false,
    }
}

/// Bytes at the start of the bounce's text where MTA wording counts as such.
const OPENING_BYTES: usize = 1500;

/// Is the line a quotation of someone else's mail ("> ..."), as opposed to an
/// SMTP transcript line (">>> RCPT TO:")?
fn quoted_line(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    let b = t.as_bytes();
    (b.first() == Some(&b'>') && b.get(1) != Some(&b'>'))
        || b.starts_with(b"> >")
        || b.first() == Some(&b'|')
}

/// An SMTP reply code or enhanced status code tied to a recipient address:
/// on the same line as an address, within three lines after it ("<a@b>: host
/// mx said: 550 5.1.1 ...", qmail's "<a@b>:\n...\nRemote host said: 550 ...")
/// or followed by the address within eight lines ("550 no such user" ...
/// "RCPT TO: a@b").  Quoted lines ("> ...") do not count.
fn code_near_address(prose: &str, top: &TopHeaders) -> bool {
    let mut last_addr: Option<usize> = None;
    let mut last_code: Option<usize> = None;
    let mut low = String::new();
    for (i, line) in text::lines(prose).take(MAX_PROSE_LINES).enumerate() {
        if quoted_line(line) {
            continue;
        }
        let t = line.trim_ws();
        if t.is_empty() || header_like(t) {
            continue;
        }
        if t.contains('@') {
            let own = top.from_addr.as_deref().unwrap_or("\u{0}");
            if text::find_addresses(t, 3).iter().any(|a| !text::eq_ci(a.as_bytes(), own.as_bytes()))
            {
                if last_code.is_some_and(|c| i - c <= 8) {
                    return true;
                }
                last_addr = Some(i);
            }
        }
        if !t.bytes().any(|b| b == b'4' || b == b'5') {
            continue;
        }
        low.clear();
        low.push_str(t);
        low.make_ascii_lowercase();
        if text::find_enhanced_status(&low).is_some() || text::find_smtp_reply(&low).is_some() {
            if last_addr.is_some_and(|a| i - a <= 3) {
                return true;
            }
            last_code = Some(i);
        }
    }
    false
}

/// End of the bounce's own prose: the first line that starts a quoted header
/// block of the original.
fn prose_region_end(s: &str) -> usize {
    let base = s.as_ptr() as usize;
    let mut n = 0;
    let mut prev_blank = true;
    for line in text::lines(s) {
        // offset of this line in s (lines are sub-slices of s)
        let start = (line.as_ptr() as usize).saturating_sub(base).min(s.len());
        let t = text::trim_start_ascii(line, b"> \t");
        if n > 0
            && (text::starts_with_ci(t, "received: from")
                || text::starts_with_ci(t, "return-path:")
                || (prev_blank && text::starts_with_ci(t, "message-id:")))
        {
            return start;
        }
        prev_blank = text::is_blank(line);
        n += 1;
        if n > 5000 {
            break;
        }
    }
    s.len()
}

/// An automatic-reply subject that no header backs: it must have the form responders give it,
/// the phrase ending the subject or coming before a colon ("Out of office: X", "Automatic
/// reply", "X is out of the office.", "自动回复：X"), or the message must answer another one
/// (In-Reply-To, References). A person's "Vacation plans" that says "out of the office" in the
/// text is not an automatic reply.
fn auto_reply_form(subj_lower: &str, subj_hits: &Hits, top: &TopHeaders) -> bool {
    top.in_reply_to.is_some()
        || top.references_last.is_some()
        || subj_hits.phrase(Cat::AutoReply).is_some_and(|p| {
            let after = subj_lower.find(p).and_then(|at| subj_lower.get(at + p.len()..));
            after.is_some_and(|rest| {
                let rest =
                    rest.trim_start_matches([' ', '\t', ')', ']', '】', '）', '.', '!', '。']);
                rest.is_empty() || rest.starts_with([':', '：', '-', '|', '/'])
            })
        })
}

/// Where the bounce itself was delivered (Delivered-To, added by the delivering agent): the
/// sender's side, never a failed recipient. (Not X-Original-To: DragonFly's DMA puts the failed
/// recipient there.)
fn delivered_to_addrs(msg: &mime::Head<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let fields =
        headers::raw_headers_named(msg, |n| n.len() == 12 && text::eq_ci(n, b"delivered-to"));
    for (_, value) in fields {
        for a in text::find_addresses(value, 3) {
            if out.len() < 10 && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// Recipient addresses named in the prose of a non-standard bounce.
fn prose_recipients(prose: &str, top: &TopHeaders, msg: &mime::Head<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let own_from = top.from_addr.clone().unwrap_or_default();
    // the bounce's own To and Delivered-To addresses, parsed only when needed here
    let to_addrs = std::cell::OnceCell::new();
    let delivered_to = std::cell::OnceCell::new();
    let skip = |a: &str| -> bool {
        let l = a.to_ascii_lowercase();
        l == own_from
            || to_addrs.get_or_init(|| mime::root_to_addrs(msg)).contains(&l)
            || l.starts_with("mailer-daemon@")
            || (delivered_to.get_or_init(|| delivered_to_addrs(msg)).iter())
                .any(|d: &String| text::eq_ci(d.as_bytes(), l.as_bytes()))
    };
    // Indentation of the last header-like line (From:, Message-ID:, ...)
    // of a quoted header block: deeper-indented lines after it are that
    // field's continuation lines ("Message-ID:" / "  <id@host>"), not prose.
    let mut hdr_indent: Option<usize> = None;
    for line in text::lines(prose).take(MAX_PROSE_LINES) {
        let unq = line.trim_start_matches(['>', ' ', '\t']);
        let indent = line.len() - unq.len();
        if let Some(h) = hdr_indent {
            if indent > h && !unq.is_empty() {
                continue;
            }
            hdr_indent = None;
        }
        if header_like(unq) {
            hdr_indent = Some(indent);
            continue;
        }
        if !line.contains('@') {
            continue;
        }
        let t = line.trim_start_matches(['>', ' ', '\t', '*', '-', '•']);
        if t.is_empty() {
            continue;
        }
        let lower_line = t.to_ascii_lowercase();
        // Address at line start: "<a@b>: host ...", "a@b", "a@b (reason)", "<a@b>..."
        let first_tok = t.split_whitespace().next().unwrap_or("");
        let starts_addr = first_tok.contains('@') && {
            let c = first_tok.trim_start_matches(['<', '"', '\'']);
            c.find('@').is_some_and(|p| p > 0)
        };
        let ctx = starts_addr
            || lower_line.contains("rcpt to")
            || lower_line.contains("recipient")
            || lower_line.contains("failed:")
            || lower_line.contains("delivery to")
            || lower_line.contains("to address")
            || lower_line.contains("unknown user")
            || lower_line.contains("user unknown")
            || lower_line.contains("address:")
            || lower_line.contains("addressee")
            || lower_line.contains("destinataire")
            || lower_line.contains("empfänger")
            || lower_line.contains("destinatari")
            || lower_line.contains("destinatário")
            || lower_line.contains("geadresseerde")
            || lower_line.contains("ontvanger")
            || lower_line.contains("олучател")
            || lower_line.contains("宛先")
            || lower_line.contains("受信者")
            || lower_line.contains("收件人")
            || lower_line.contains("收件者")
            || lower_line.contains("could not be delivered to")
            || lower_line.contains("message to")
            || lower_line.contains("mailbox")
            || lower_line.contains("does not exist")
            || lower_line.contains("said:")
            || lower_line.contains(">:")
            || lower_line.contains("fehlgeschlagen")
            || lower_line.contains("unbekannt")
            || text::find_enhanced_status(t).is_some();
        if !ctx || header_like(t) {
            continue;
        }
        let addrs = if starts_addr {
            text::find_addresses(first_tok, 1)
        } else {
            text::find_addresses(t, 3)
        };
        for x in addrs {
            if !skip(&x) && !out.iter().any(|y| text::eq_ci(y.as_bytes(), x.as_bytes())) {
                out.push(x);
            }
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// "Automatic reply: <original subject>" -> "<original subject>".
fn auto_reply_original_subject(subject: &str) -> Option<String> {
    let s = subject.trim_ws();
    for sep in [':', '：'] {
        if let Some(p) = s.find(sep) {
            let prefix = text::lowercase(s.get(..p).unwrap_or("").trim_ws());
            if prefix.chars().count() > 40 {
                continue;
            }
            let mut h = Hits::default();
            text::scan_phrases(&prefix, &mut h);
            let known = [
                "auto",
                "autoreply",
                "auto-reply",
                "auto reply",
                "ooo",
                "automatic reply",
                "abwesend",
                "vacation",
                "afwezig",
                "urlaub",
                "congé",
                "ausente",
            ];
            if h.has(Cat::AutoReply) || h.has(Cat::Challenge) || known.contains(&prefix.as_str()) {
                let rest = s.get(p + sep.len_utf8()..).unwrap_or("").trim_ws();
                if !rest.is_empty() {
                    return Some(rest.to_string());
                }
            }
        }
    }
    None
}

/// A "Subject:" line in the bounce's prose (Exchange "Original Message
/// Details", Domino "Your message Subject: ... was not delivered").
fn prose_subject(prose: &str) -> Option<String> {
    const LABELS: &[&str] = &[
        "subject:",
        "betreff:",
        "objet :",
        "objet:",
        "asunto:",
        "oggetto:",
        "assunto:",
        "onderwerp:",
        "тема:",
        "件名:",
        "件名：",
        "主题:",
        "主题：",
        "主旨:",
    ];
    for line in text::lines(prose).take(MAX_PROSE_LINES) {
        let t = line.trim_start_matches(['>', ' ', '\t']);
        // every label starts with one of these letters or a non-ASCII char
        if t.as_bytes().first().is_none_or(|c| {
            c.is_ascii() && !matches!(c.to_ascii_lowercase(), b's' | b'b' | b'o' | b'a')
        }) {
            continue;
        }
        let tl = text::lowercase(t);
        for l in LABELS {
            if tl.starts_with(l) {
                let v = t
                    .get(l.len()..)
                    .or_else(|| t.split_once(':').map(|x| x.1))
                    .unwrap_or("")
                    .trim_ws();
                if v.is_empty() {
                    continue;
                }
                let block = cat(&["Subject: ", v, "\n\n"]);
                let h = headers::from_header_str(&block);
                return h.subject.or_else(|| Some(text::squash_ws(v, 1000)));
            }
        }
    }
    None
}

fn header_like(t: &str) -> bool {
    [
        "from:",
        "to:",
        "cc:",
        "reply-to:",
        "sender:",
        "return-path:",
        "received:",
        "message-id:",
        "in-reply-to:",
        "references:",
    ]
    .iter()
    .any(|p| text::starts_with_ci(t, p))
}

fn prose_diagnostic(
    prose: &str,
    lower: &str,
    smtp: Option<(u16, usize)>,
    status: Option<&str>,
) -> Option<String> {
    if let Some(st) = status {
        if let Some(p) = prose.find(st) {
            let l = text::line_at(prose, p);
            if !l.is_empty() {
                return Some(l.to_string());
            }
        }
    }
    if let Some((_, pos)) = smtp {
        // lower has the same char structure as prose for ASCII; use the lower text line
        let l = text::line_at(lower, pos);
        if !l.is_empty() {
            // find the same line in prose (case-preserving) if possible
            let orig = prose
                .lines()
                .find(|x| text::lowercase(x.trim_ws()) == l)
                .map(|x| x.trim_ws().to_string());
            return Some(orig.unwrap_or_else(|| l.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests;

/// A xorshift64 generator from `seed` (not zero), for the tests' random inputs.
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}
