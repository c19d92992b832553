//! A lean MIME walker for the analysis engine.
//!
//! mail-parser parses every header field of every part and decodes every body
//! — attachments, HTML alternatives and the complete attached original with
//! its own parts — before the engine sees any of it.  The engine needs far
//! less: the top-level header, the MIME tree of the bounce itself, the bodies
//! of a few parts (decoded only when asked for) and the header block of an
//! attached original.  Field boundaries are found here; the values the engine
//! reads (From, To, Cc, Subject, Message-ID, the MIME fields) still go through
//! mail-parser's field parsers, so their semantics (RFC 2047 encoded words,
//! RFC 2231 parameters) stay exactly mail-parser's.
//!
//! Bounded: at most [`MAX_LEAVES`] leaf parts and [`MAX_DEPTH`] levels of
//! nested multiparts; every scan is linear in the input.

use super::text::TrimWs;
use std::borrow::Cow;

use super::fastfield as ff;
use super::text::{eq_ci, lossy, ByteFinder};

use mail_parser::{Address, ContentType, HeaderName, HeaderValue, Message};

const MAX_LEAVES: usize = 500;
const MAX_DEPTH: usize = 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Cte {
    None,
    QuotedPrintable,
    Base64,
}

/// One non-multipart entity of the bounce (or a multipart whose boundary was
/// never found: then `ctype == "multipart"` and `body` is its raw text).
pub(crate) struct Leaf<'a> {
    /// Lower-case type and subtype (defaults applied: text/plain, or
    /// message/rfc822 inside multipart/digest).
    pub ctype: Cow<'static, str>,
    pub subtype: Cow<'static, str>,
    /// Lower-case attachment file name ("" when none).
    pub name: String,
    pub cte: Cte,
    /// This entity is the message's own header (not a MIME part inside it).
    pub is_root: bool,
    /// The part's own header holds a Message-ID field.
    pub header_has_message_id: bool,
    /// The part's header block (field lines) as raw bytes.
    pub header_raw: &'a [u8],
    /// The body, still transfer-encoded.
    pub body: &'a [u8],
    charset: Option<Cow<'static, str>>,
}

const KNOWN_TYPES: &[&str] = &["text", "multipart", "message", "application", "image"];
const KNOWN_SUBTYPES: &[&str] = &[
    "plain",
    "html",
    "mixed",
    "alternative",
    "related",
    "report",
    "delivery-status",
    "rfc822",
    "rfc822-headers",
    "octet-stream",
    "feedback-report",
    "disposition-notification",
    "global",
    "global-headers",
    "global-delivery-status",
];
const KNOWN_CHARSETS: &[&str] =
    &["us-ascii", "utf-8", "iso-8859-1", "iso-2022-jp", "windows-1252", "shift_jis"];

/// `s` lower-cased, without an allocation when it is one of `known` (lower case).
pub(crate) fn lower_known(s: &str, known: &[&'static str]) -> Cow<'static, str> {
    match known.iter().find(|k| eq_ci(k.as_bytes(), s.as_bytes())) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(s.to_ascii_lowercase()),
    }
}

/// `s.to_ascii_lowercase()` of a MIME type (no allocation for the usual ones).
pub(crate) fn lower_mime_type(s: &str) -> Cow<'static, str> {
    lower_known(s, KNOWN_TYPES)
}

/// `s.to_ascii_lowercase()` of a MIME subtype (no allocation for the usual ones).
pub(crate) fn lower_mime_subtype(s: &str) -> Cow<'static, str> {
    lower_known(s, KNOWN_SUBTYPES)
}

impl<'a> Leaf<'a> {
    /// The body with its Content-Transfer-Encoding removed.
    pub fn bytes(&self) -> Cow<'a, [u8]> {
        decode_cte(self.body, self.cte)
    }

    /// The first bytes of the decoded body (at least `n` when the body has
    /// them), decoding only a prefix of a large encoded body.
    pub fn bytes_prefix(&self, n: usize) -> Cow<'a, [u8]> {
        let raw_n = match self.cte {
            Cte::None => n,
            // base64: 4 chars for 3 bytes plus line breaks; QP: up to 3 chars a byte
            Cte::Base64 => n * 2 + 8,
            Cte::QuotedPrintable => n * 3 + 8,
        };
        let raw = self.body.get(..raw_n).unwrap_or(self.body);
        decode_cte(raw, self.cte)
    }

    /// The body decoded to text: transfer encoding, then the declared charset
    /// (unknown or missing charset: UTF-8 with replacement characters), less a
    /// leading byte order mark.
    pub fn text(&self) -> Cow<'a, str> {
        strip_bom(match self.bytes() {
            Cow::Borrowed(b) => decode_charset(skip_bom(b), self.charset.as_deref()),
            Cow::Owned(v) => match decode_charset(skip_bom(&v), self.charset.as_deref()) {
                // unchanged: the bytes are valid UTF-8 already
                Cow::Borrowed(_) => Cow::Owned(owned_lossy(v)),
                Cow::Owned(s) => Cow::Owned(s),
            },
        })
    }

    /// The first `cap` bytes of the decoded body read as UTF-8 (lossily), no
    /// charset applied: for message/* and other non-text parts.
    pub fn lossy_prefix(&self, cap: usize) -> Cow<'a, str> {
        match self.bytes() {
            Cow::Borrowed(b) => lossy(&b[..b.len().min(cap)]),
            Cow::Owned(mut v) => {
                v.truncate(cap);
                Cow::Owned(owned_lossy(v))
            }
        }
    }

    /// The body as text when this is a text/* part, else the decoded bytes
    /// read as UTF-8 (lossily): what mail-parser gave as the part's contents.
    pub fn contents(&self) -> Cow<'a, str> {
        if self.ctype == "text" {
            self.text()
        } else {
            self.lossy_prefix(usize::MAX)
        }
    }
}

/// `v` as a String, invalid UTF-8 replaced (no copy when it is valid).
fn owned_lossy(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The fields whose values the engine reads, by their index in [`Head`]'s
/// arrays: From, To, Cc, Subject, Message-ID, Content-Type,
/// Content-Disposition, Content-Transfer-Encoding.
const KINDS: usize = 8;
const FROM: usize = 0;
const TO: usize = 1;
const CC: usize = 2;
const SUBJECT: usize = 3;
const MESSAGE_ID: usize = 4;
const CONTENT_TYPE: usize = 5;
const CONTENT_DISPOSITION: usize = 6;
const CONTENT_TRANSFER_ENCODING: usize = 7;

/// One field of a header block: the byte ranges of its name and of its raw
/// value (32-bit offsets, as mail-parser keeps them: small entries keep the
/// vector of a header block a small allocation).
struct RawField {
    name: (u32, u32),
    value: (u32, u32),
}

impl RawField {
    /// `raw[start..end]` of a range (empty when out of bounds).
    fn slice(raw: &[u8], (start, end): (u32, u32)) -> &[u8] {
        raw.get(start as usize..end as usize).unwrap_or(&[])
    }
}

/// A parsed header block: what the engine reads of it.
pub(crate) struct Head<'a> {
    raw: &'a [u8],
    /// Every field in order (at most 10 000, as in mail-parser); not kept
    /// for a MIME part's header, where only the MIME fields are read.
    fields: Vec<RawField>,
    /// Fields seen (at most 10 000).
    count: usize,
    /// The value range of the last To field (parsed on first use in the
    /// bounce's own header, `root_to_addrs`).
    to_range: Option<(u32, u32)>,
    /// The last field of each kind: its value parsed by mail-parser's field
    /// parser (or its exact fast path) when the engine reads it through
    /// mail-parser's accessors, else `HeaderValue::Empty`.
    last: [Option<HeaderValue<'a>>; KINDS],
    /// Where the body starts.
    body_off: usize,
}

/// Parse the header block at the start of `data`: its fields and the offset
/// where the body starts.
///
/// The field boundaries are found here (memchr over the lines, with folding);
/// only the values the engine reads through mail-parser's accessors (From, To,
/// Cc, Subject, Message-ID and the MIME fields) go through mail-parser's field
/// parsers (`fastfield`), and of those only the last field of each name (the
/// one mail-parser's accessors return).  Every other field is kept with its
/// name and raw offsets only, as mail-parser's `default_header_ignore` keeps
/// it.  A header ends at the first empty (or white-space only) line, as in
/// mail-parser.
fn parse_head(data: &[u8], want: Want) -> Head<'_> {
    let mut head = Head {
        raw: data,
        fields: if want == Want::Part { Vec::new() } else { Vec::with_capacity(48) },
        count: 0,
        to_range: None,
        last: Default::default(),
        body_off: data.len(),
    };
    // the value range of the last field of each kind
    let mut ranges: [Option<(usize, usize)>; KINDS] = [None; KINDS];
    let mut pos = 0;
    let (nl, colon_finder) = (ByteFinder::new(b'\n'), ByteFinder::new(b':'));
    while pos < data.len() {
        // white space before a field name; a line break there ends the header
        let mut i = pos;
        while i < data.len() && matches!(data[i], b' ' | b'\t' | b'\r' | 0x0B | 0x0C) {
            i += 1;
        }
        match data.get(i) {
            None => break,
            Some(b'\n') => {
                head.body_off = i + 1;
                break;
            }
            Some(_) => {}
        }
        let line_end = nl.find(&data[i..]).map_or(data.len(), |p| i + p);
        let Some(colon) = colon_finder.find(&data[i..line_end]).map(|p| i + p) else {
            // not a field: skip the line (as mail-parser does)
            pos = (line_end + 1).min(data.len());
            continue;
        };
        // the field runs on over folded lines
        let mut end = line_end;
        while end < data.len() && matches!(data.get(end + 1), Some(b' ' | b'\t')) {
            end = nl.find(&data[end + 1..]).map_or(data.len(), |p| end + 1 + p);
        }
        let field_end = (end + 1).min(data.len());
        let name_bytes = data[i..colon].trim_ascii_end();
        if !name_bytes.is_empty() && head.count < 10_000 {
            head.count += 1;
            let kind = kind_of(name_bytes);
            if let Some(slot) = kind.and_then(|k| ranges.get_mut(k)) {
                *slot = Some((colon + 1, field_end));
            }
            if want != Want::Part {
                let name_end = i + name_bytes.len();
                head.fields.push(RawField {
                    name: (i as u32, name_end as u32),
                    value: ((colon + 1) as u32, field_end as u32),
                });
            }
        }
        pos = field_end;
    }
    head.to_range = ranges[TO].map(|(s, e)| (s as u32, e as u32));
    for (k, (range, slot)) in ranges.iter().zip(head.last.iter_mut()).enumerate() {
        if let Some((s, e)) = *range {
            *slot = Some(field_value(k, data.get(s..e).unwrap_or(&[]), want));
        }
    }
    head
}

/// Which field values of a header block the engine reads through mail-parser
/// (the others keep their name only, with an empty value).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The bounce's own header: From, Subject, Message-ID and the MIME fields
    /// (To is parsed on first use, `root_to_addrs`).
    Root,
    /// A MIME part's header: the MIME fields only.
    Part,
    /// An attached message's header: From, To, Cc, Subject, Message-ID.
    Nested,
}

/// The kind (index in [`Head`]'s arrays) of a field name (any case), if it is one.
fn kind_of(name: &[u8]) -> Option<usize> {
    // the lengths of the names matched below: other names need no lower-casing
    if !matches!(name.len(), 2 | 4 | 7 | 10 | 12 | 19 | 25) {
        return None;
    }
    // one candidate name per length: compared in place (no lower-cased copy)
    let hit = match name.len() {
        2 if matches!(name.first(), Some(b't' | b'T')) => eq_lower(name, b"to").then_some(TO),
        2 => eq_lower(name, b"cc").then_some(CC),
        4 => eq_lower(name, b"from").then_some(FROM),
        7 => eq_lower(name, b"subject").then_some(SUBJECT),
        10 => eq_lower(name, b"message-id").then_some(MESSAGE_ID),
        12 => eq_lower(name, b"content-type").then_some(CONTENT_TYPE),
        19 => eq_lower(name, b"content-disposition").then_some(CONTENT_DISPOSITION),
        _ => eq_lower(name, b"content-transfer-encoding").then_some(CONTENT_TRANSFER_ENCODING),
    };
    hit
}

/// The value of a field of kind `k` as mail-parser's field parser gives it,
/// or `HeaderValue::Empty` when the engine does not read it for `want`.
fn field_value(k: usize, value: &[u8], want: Want) -> HeaderValue<'_> {
    let (addr, mime) = (want != Want::Part, want != Want::Nested);
    match k {
        FROM if addr => ff::parse_address(value),
        TO | CC if want == Want::Nested => ff::parse_address(value),
        SUBJECT if addr => ff::parse_unstructured(value),
        MESSAGE_ID if addr => ff::parse_id(value),
        CONTENT_TYPE | CONTENT_DISPOSITION if mime => ff::parse_content_type(value),
        CONTENT_TRANSFER_ENCODING if mime => ff::parse_unstructured(value),
        _ => HeaderValue::Empty,
    }
}

/// `eq_ci(name, cand)` for a lower-case candidate of known length: its
/// letters match either case, its other bytes only themselves (eight bytes
/// at a time, the masks folded at compile time).
#[inline(always)]
fn eq_lower<const N: usize>(name: &[u8], cand: &[u8; N]) -> bool {
    #[inline(always)]
    fn chunk(c: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        for (k, d) in w.iter_mut().enumerate() {
            *d = c.get(at + k).copied().unwrap_or(0);
        }
        u64::from_le_bytes(w)
    }
    #[inline(always)]
    fn case_mask(c: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        for (k, d) in w.iter_mut().enumerate() {
            if c.get(at + k).is_some_and(u8::is_ascii_lowercase) {
                *d = 0x20;
            }
        }
        u64::from_le_bytes(w)
    }
    let Some(a) = name.first_chunk::<N>() else { return false };
    if name.len() != N {
        return false;
    }
    let mut at = 0;
    while at < N {
        let m = case_mask(cand, at);
        if chunk(a, at) | m != chunk(cand, at) {
            return false;
        }
        at += 8;
    }
    true
}

/// The bounce's own To addresses (trimmed, lowercased) from the last To
/// field, as `Message::to` would give them; the walker leaves that field
/// unparsed until it is needed.
pub(crate) fn root_to_addrs(m: &Head<'_>) -> Vec<String> {
    let Some((s, e)) = m.to_range.map(|(s, e)| (s as usize, e as usize)) else {
        return Vec::new();
    };
    let parsed;
    let value = match &m.last[TO] {
        Some(v) if !matches!(v, HeaderValue::Empty) => v,
        _ => {
            parsed = ff::parse_address(m.raw.get(s..e).unwrap_or(&[]));
            &parsed
        }
    };
    value
        .as_address()
        .into_iter()
        .flat_map(super::headers::addrs)
        .filter_map(|a| a.address())
        .map(|x| x.trim_ws().to_ascii_lowercase())
        .collect()
}

/// A message header as the engine reads it: the walker's [`Head`], or a
/// mail-parser `Message` (the prefilter's header-only parse).
pub(crate) trait HeaderView {
    /// The values of the last From, To, Cc, Subject, Message-ID and MIME fields.
    fn last_fields(&self) -> LastFields<'_, '_>;
    /// The number of header fields.
    fn field_count(&self) -> usize;
    /// Each field's name and raw value, in order.  The name is given as
    /// bytes: the walker's names are the raw bytes, mail-parser's are
    /// `HeaderName::as_str` (its canonical spelling for the names it knows);
    /// the engine compares names ignoring ASCII case only, so both read the same.
    fn raw_fields(&self) -> impl Iterator<Item = (&[u8], &[u8])>;
    /// `Message::headers_raw`: the fields whose value is UTF-8.
    fn headers_raw(&self) -> impl Iterator<Item = (&[u8], &str)> {
        self.raw_fields().filter_map(|(n, v)| Some((n, std::str::from_utf8(v).ok()?)))
    }
}

impl HeaderView for Head<'_> {
    fn last_fields(&self) -> LastFields<'_, '_> {
        LastFields::of_head(self)
    }

    fn field_count(&self) -> usize {
        self.fields.len()
    }

    fn raw_fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|f| (RawField::slice(self.raw, f.name), RawField::slice(self.raw, f.value)))
    }
}

impl HeaderView for Message<'_> {
    fn last_fields(&self) -> LastFields<'_, '_> {
        LastFields::of(self)
    }

    fn field_count(&self) -> usize {
        self.parts.first().map_or(0, |p| p.headers.len())
    }

    fn raw_fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.parts.first().into_iter().flat_map(|p| p.headers.iter()).filter_map(|h| {
            let v = self.raw_message.get(h.offset_start as usize..h.offset_end as usize)?;
            Some((h.name.as_str().as_bytes(), v))
        })
    }
}

/// The values of the last From, To, Cc, Subject, Message-ID and
/// Content-Type fields of a message's header, found in one pass from the
/// end: what `Message::from`, `to`, `cc`, `subject`, `message_id` and
/// `content_type` return (each of those scans the fields again).
#[derive(Default)]
pub(crate) struct LastFields<'a, 'x> {
    from: Option<&'a HeaderValue<'x>>,
    to: Option<&'a HeaderValue<'x>>,
    cc: Option<&'a HeaderValue<'x>>,
    subject: Option<&'a HeaderValue<'x>>,
    message_id: Option<&'a HeaderValue<'x>>,
    content_type: Option<&'a HeaderValue<'x>>,
    content_disposition: Option<&'a HeaderValue<'x>>,
    content_transfer_encoding: Option<&'a HeaderValue<'x>>,
}

impl<'a, 'x> LastFields<'a, 'x> {
    pub fn of(m: &'a Message<'x>) -> LastFields<'a, 'x> {
        let mut k = LastFields::default();
        for h in m.parts.first().map(|p| p.headers.as_slice()).unwrap_or(&[]).iter().rev() {
            let slot = match h.name {
                HeaderName::From => &mut k.from,
                HeaderName::To => &mut k.to,
                HeaderName::Cc => &mut k.cc,
                HeaderName::Subject => &mut k.subject,
                HeaderName::MessageId => &mut k.message_id,
                HeaderName::ContentType => &mut k.content_type,
                HeaderName::ContentDisposition => &mut k.content_disposition,
                HeaderName::ContentTransferEncoding => &mut k.content_transfer_encoding,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(&h.value);
            }
        }
        k
    }

    pub fn of_head(h: &'a Head<'x>) -> LastFields<'a, 'x> {
        let [from, to, cc, subject, message_id, content_type, content_disposition, content_transfer_encoding] =
            &h.last;
        LastFields {
            from: from.as_ref(),
            to: to.as_ref(),
            cc: cc.as_ref(),
            subject: subject.as_ref(),
            message_id: message_id.as_ref(),
            content_type: content_type.as_ref(),
            content_disposition: content_disposition.as_ref(),
            content_transfer_encoding: content_transfer_encoding.as_ref(),
        }
    }

    pub fn from(&self) -> Option<&'a Address<'x>> {
        self.from.and_then(|v| v.as_address())
    }

    pub fn to(&self) -> Option<&'a Address<'x>> {
        self.to.and_then(|v| v.as_address())
    }

    pub fn cc(&self) -> Option<&'a Address<'x>> {
        self.cc.and_then(|v| v.as_address())
    }

    pub fn subject(&self) -> Option<&'a str> {
        self.subject.and_then(|v| v.as_text())
    }

    pub fn message_id(&self) -> Option<&'a str> {
        self.message_id.and_then(|v| v.as_text())
    }

    pub fn content_type(&self) -> Option<&'a ContentType<'x>> {
        self.content_type.and_then(|v| v.as_content_type())
    }

    pub fn content_disposition(&self) -> Option<&'a ContentType<'x>> {
        self.content_disposition.and_then(|v| v.as_content_type())
    }

    pub fn content_transfer_encoding(&self) -> Option<&'a str> {
        self.content_transfer_encoding.and_then(|v| v.as_text())
    }

    /// `MimeHeaders::attachment_name`.
    pub fn attachment_name(&self) -> Option<&'a str> {
        self.content_disposition()
            .and_then(|cd| cd.attribute("filename"))
            .or_else(|| self.content_type().and_then(|ct| ct.attribute("name")))
    }

    /// Some field is a Message-ID.
    pub fn has_message_id(&self) -> bool {
        self.message_id.is_some()
    }
}

/// A message's header only; None when there is no header field at all.
pub(crate) fn header_message(data: &[u8]) -> Option<Head<'_>> {
    let head = parse_head(data, Want::Nested);
    (head.count > 0).then_some(head)
}

/// Walk a whole message: its header and the leaf entities of its MIME tree
/// in document order.  None when the data has no header field at all.
pub(crate) fn walk(data: &[u8]) -> Option<(Head<'_>, Vec<Leaf<'_>>)> {
    let head = parse_head(data, Want::Root);
    if head.count == 0 {
        return None;
    }
    let mut leaves = Vec::new();
    entity(data, &head, false, true, 0, &mut leaves);
    Some((head, leaves))
}

/// Add the entity `data` whose header was parsed into `head` (its body
/// starts at `head.body_off`).
fn entity<'a>(
    data: &'a [u8],
    head: &Head<'a>,
    in_digest: bool,
    is_root: bool,
    depth: usize,
    out: &mut Vec<Leaf<'a>>,
) {
    if out.len() >= MAX_LEAVES {
        return;
    }
    let body_off = head.body_off;
    let body = data.get(body_off..).unwrap_or(&[]);
    let last = LastFields::of_head(head);
    let ct = last.content_type();
    let (ctype, subtype) = match ct {
        Some(c) => (
            lower_known(c.ctype().trim_ws(), KNOWN_TYPES),
            lower_known(c.subtype().unwrap_or("").trim_ws(), KNOWN_SUBTYPES),
        ),
        None if in_digest => (Cow::Borrowed("message"), Cow::Borrowed("rfc822")),
        None => (Cow::Borrowed("text"), Cow::Borrowed("plain")),
    };
    if ctype == "multipart" && depth < MAX_DEPTH {
        let boundary = ct.and_then(|c| c.attribute("boundary")).unwrap_or("");
        if !boundary.is_empty() {
            if let Some(pieces) = split_multipart(body, boundary.as_bytes()) {
                let digest = subtype == "digest";
                for (s, e) in pieces {
                    if out.len() >= MAX_LEAVES {
                        break;
                    }
                    let piece = &body[s..e];
                    let sub = parse_head(piece, Want::Part);
                    entity(piece, &sub, digest, false, depth + 1, out);
                }
                return;
            }
        }
    }
    let cte = match last.content_transfer_encoding().map(str::trim) {
        Some(s) if eq_ci(s.as_bytes(), b"base64") => Cte::Base64,
        Some(s) if eq_ci(s.as_bytes(), b"quoted-printable") => Cte::QuotedPrintable,
        _ => Cte::None,
    };
    let charset = ct
        .and_then(|c| c.attribute("charset"))
        .map(|s| lower_known(s.trim_ws().trim_matches('"'), KNOWN_CHARSETS))
        .filter(|s| !s.is_empty());
    out.push(Leaf {
        ctype,
        subtype,
        name: last.attachment_name().unwrap_or("").to_ascii_lowercase(),
        cte,
        is_root,
        header_has_message_id: last.has_message_id(),
        header_raw: data.get(..body_off).unwrap_or(&[]),
        body,
        charset,
    });
}

/// The byte ranges (relative to `body`) of the parts of a multipart body, or
/// None when the boundary never occurs.  The first delimiter may sit anywhere
/// (as mail-parser accepts it); later ones must start a line.  A delimiter is
/// `--boundary` followed by `--`, white space or the end of the line.
fn split_multipart(body: &[u8], boundary: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut delim = Vec::with_capacity(boundary.len() + 3);
    delim.extend_from_slice(b"\n--");
    delim.extend_from_slice(boundary);
    // One searcher for "--boundary"; a delimiter after the first must follow a line break.
    let first = DelimFinder::new(&delim[1..]);
    let after_lf = |from: usize| -> Option<usize> {
        // the first "\n--boundary" at or after `from` (its '\n' position)
        let mut p = from + 1;
        loop {
            let at = p + first.find(body.get(p..)?)?;
            if body[at - 1] == b'\n' {
                return Some(at - 1);
            }
            p = at + 1;
        }
    };
    // a delimiter match ending at `end`: is it really one? returns (is_close, next line start)
    let check = |end: usize| -> Option<(bool, usize)> {
        let rest = body.get(end..).unwrap_or(&[]);
        let close = rest.starts_with(b"--");
        let after = if close { &rest[2..] } else { rest };
        match after.first() {
            None | Some(b' ' | b'\t' | b'\r' | b'\n') => {}
            Some(_) if close => {}
            Some(_) => return None,
        }
        let nl = memchr::memchr(b'\n', rest).map(|p| end + p + 1).unwrap_or(body.len());
        Some((close, nl))
    };
    // first delimiter
    let mut pos = 0;
    let mut cur = loop {
        let at = first.find(body.get(pos..)?)? + pos;
        if let Some((close, next)) = check(at + delim.len() - 1) {
            if close {
                return Some(Vec::new());
            }
            break next;
        }
        pos = at + 1;
    };
    let mut out = Vec::new();
    let mut search = cur.saturating_sub(1);
    loop {
        if out.len() >= MAX_LEAVES {
            break;
        }
        let Some(at) = after_lf(search) else {
            // no closing delimiter: the last part runs to the end
            out.push((cur, body.len()));
            break;
        };
        match check(at + delim.len()) {
            Some((close, next)) => {
                // the part ends before the line break that precedes the delimiter
                let end = if at > cur && body.get(at - 1) == Some(&b'\r') { at - 1 } else { at };
                out.push((cur, end.max(cur)));
                if close {
                    break;
                }
                cur = next;
                search = next.saturating_sub(1);
            }
            None => search = at + 1,
        }
    }
    Some(out)
}

/// A substring searcher for a multipart delimiter.  memchr's searcher for a
/// needle longer than 32 bytes (most boundaries) costs thousands of
/// instructions to build; this one searches for the first 32 bytes and
/// checks the rest at each match.  After a few failed checks (a body built
/// to repeat the prefix) it builds the full searcher, so the work stays
/// linear.  Same results as `memmem::find` of the whole needle.
struct DelimFinder<'n> {
    needle: &'n [u8],
    prefix: memchr::memmem::Finder<'n>,
    full: std::cell::OnceCell<memchr::memmem::Finder<'n>>,
    misses: std::cell::Cell<u32>,
}

impl<'n> DelimFinder<'n> {
    const PREFIX: usize = 32;
    const MAX_MISSES: u32 = 16;

    fn new(needle: &'n [u8]) -> DelimFinder<'n> {
        DelimFinder {
            needle,
            prefix: memchr::memmem::Finder::new(&needle[..needle.len().min(Self::PREFIX)]),
            full: std::cell::OnceCell::new(),
            misses: std::cell::Cell::new(0),
        }
    }

    /// The first occurrence of the needle in `hay`.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.needle.len() <= Self::PREFIX {
            return self.prefix.find(hay);
        }
        if let Some(full) = self.full.get() {
            return full.find(hay);
        }
        let mut from = 0;
        loop {
            let at = from + self.prefix.find(hay.get(from..)?)?;
            if hay.get(at..).is_some_and(|h| h.starts_with(self.needle)) {
                return Some(at);
            }
            self.misses.set(self.misses.get() + 1);
            if self.misses.get() > Self::MAX_MISSES {
                let full = self.full.get_or_init(|| memchr::memmem::Finder::new(self.needle));
                return full.find(hay.get(at + 1..)?).map(|p| at + 1 + p);
            }
            from = at + 1;
        }
    }
}

pub(crate) fn decode_cte(b: &[u8], cte: Cte) -> Cow<'_, [u8]> {
    match cte {
        Cte::None => Cow::Borrowed(b),
        Cte::Base64 => Cow::Owned(base64(b)),
        Cte::QuotedPrintable => {
            if memchr::memchr(b'=', b).is_none() {
                Cow::Borrowed(b)
            } else {
                Cow::Owned(quoted_printable(b))
            }
        }
    }
}

const B64_INVALID: u8 = 0xff;
const B64_PAD: u8 = 0xfe;
static B64: [u8; 256] = {
    let mut t = [B64_INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t[b'=' as usize] = B64_PAD;
    t
};

/// Lenient base64: characters outside the alphabet (line breaks, spaces,
/// junk) are skipped; padding ends a group, so concatenated encodings decode.
fn base64(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u32;
    for &c in b {
        let v = B64[c as usize];
        if v == B64_INVALID {
            continue;
        }
        if v == B64_PAD {
            match n {
                2 => out.push((acc >> 4) as u8),
                3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
                _ => {}
            }
            acc = 0;
            n = 0;
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Lenient quoted-printable: `=XY` decoded, soft line breaks (`=` before the
/// line end, trailing white space allowed) removed, anything else kept as is.
fn quoted_printable(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let eq = ByteFinder::new(b'=');
    while i < b.len() {
        // encoded text is often one "=XY" after another: look at the next
        // byte before searching
        let p = if b[i] == b'=' {
            0
        } else {
            let Some(p) = eq.find(&b[i..]) else {
                out.extend_from_slice(&b[i..]);
                break;
            };
            p
        };
        out.extend_from_slice(&b[i..i + p]);
        i += p + 1;
        if let (Some(h), Some(l)) =
            (b.get(i).copied().and_then(hex), b.get(i + 1).copied().and_then(hex))
        {
            out.push(h << 4 | l);
            i += 2;
            continue;
        }
        // soft line break?
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if b.get(j) == Some(&b'\r') {
            j += 1;
        }
        if b.get(j) == Some(&b'\n') {
            i = j + 1;
        } else if j >= b.len() {
            i = j;
        } else {
            out.push(b'=');
        }
    }
    out
}

/// Charsets whose ASCII bytes mean ASCII (so pure-ASCII text needs no decoding).
fn ascii_compatible(cs: &str) -> bool {
    !(cs.starts_with("utf-16")
        || cs.starts_with("utf16")
        || cs.starts_with("utf-7")
        || cs.starts_with("utf7")
        || cs.starts_with("utf-32")
        || cs.starts_with("iso-2022")
        || cs.starts_with("iso2022")
        || cs.starts_with("csiso2022")
        || cs.starts_with("hz"))
}

/// Is `cs` (lowercase) a name mail-parser decodes as ISO-2022-JP?
fn is_iso2022jp(cs: &str) -> bool {
    let b = cs.as_bytes();
    cs == "csiso2022jp"
        || b.len() == 11
            && b.starts_with(b"iso")
            && matches!(b[3], b'-' | b'_')
            && &b[4..8] == b"2022"
            && matches!(b[8], b'-' | b'_')
            && b.ends_with(b"jp")
}

/// A byte the ISO-2022-JP decoder passes through unchanged in its ASCII state.
fn jis_plain(c: u8) -> bool {
    c < 0x80 && !matches!(c, 0x0E | 0x0F | 0x1B)
}

/// The first byte at or after `pos` that is not `jis_plain` (`b.len()` when
/// none): SIMD searches for the three control bytes in ASCII text.
fn first_not_jis_plain(b: &[u8], pos: usize) -> usize {
    let Some(rest) = b.get(pos..) else { return b.len() };
    let controls = |r: &[u8]| memchr::memchr3(0x0E, 0x0F, 0x1B, r);
    let found = if rest.is_ascii() {
        controls(rest)
    } else {
        // the first 8-bit byte bounds the search
        let high = rest.iter().position(|&c| c >= 0x80).unwrap_or(rest.len());
        controls(&rest[..high]).or(Some(high))
    };
    found.map_or(b.len(), |p| pos + p)
}

/// 7-bit ISO-2022-JP decoded piecewise with `dec` (a whole-input decoder):
/// runs of plain ASCII between escapes are copied, and the decoder sees only
/// the stretches from the first other byte up to a return to ASCII ("ESC ( B"
/// and one plain byte: the decoder's state there equals its initial one, so
/// decoding the pieces apart gives the same text as decoding the whole).
/// Bounce texts are mostly ASCII, which the decoder is slow at.  Only for
/// 7-bit input: the decoder sniffs a byte order mark at the start of each
/// piece, which 8-bit bytes could form.
fn decode_iso2022jp(b: &[u8], dec: fn(&[u8]) -> String) -> String {
    let mut out = String::with_capacity(b.len() + b.len() / 2);
    let mut pos = 0;
    while pos < b.len() {
        let run_end = first_not_jis_plain(b, pos);
        out.push_str(std::str::from_utf8(&b[pos..run_end]).unwrap_or_default());
        if run_end == b.len() {
            break;
        }
        let end = memchr::memmem::find_iter(&b[run_end..], b"\x1b(B")
            .map(|p| run_end + p + 3)
            .find(|&e| b.get(e).is_some_and(|&c| jis_plain(c)))
            .map_or(b.len(), |e| e + 1);
        out.push_str(&dec(&b[run_end..end]));
        pos = end;
    }
    out
}

/// Bytes less a leading UTF-8 byte order mark: Windows programs start UTF-8
/// text with one whatever the label says (a Latin-1 label would make it "ï»¿"),
/// and the text's first character is what the checks look at ("{" of a JSON
/// notification, a header name).
fn skip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// Text less a leading byte order mark (U+FEFF), which the UTF-16 decoders
/// and the lossy UTF-8 one keep.
fn strip_bom(t: Cow<'_, str>) -> Cow<'_, str> {
    match t {
        Cow::Borrowed(s) => Cow::Borrowed(s.strip_prefix('\u{feff}').unwrap_or(s)),
        Cow::Owned(mut s) if s.starts_with('\u{feff}') => {
            s.drain(..'\u{feff}'.len_utf8());
            Cow::Owned(s)
        }
        t => t,
    }
}

pub(crate) fn decode_charset<'b>(b: &'b [u8], charset: Option<&str>) -> Cow<'b, str> {
    let Some(cs) = charset else { return lossy(b) };
    match cs {
        "utf-8" | "utf8" => lossy(b),
        // (Exchange 2003 labels its reports "unicode-1-1-utf-7")
        "utf-7" | "utf7" | "unicode-1-1-utf-7" | "x-unicode-2-0-utf-7" | "csunicode11utf7" => {
            Cow::Owned(super::text::decode_utf7(b))
        }
        _ if b.is_ascii() && ascii_compatible(cs) => lossy(b),
        // ISO-2022-JP text that never leaves ASCII (no ESC, SO or SI) decodes
        // to itself
        _ if is_iso2022jp(cs) => {
            if first_not_jis_plain(b, 0) == b.len() {
                lossy(b)
            } else if b.is_ascii() {
                match mail_parser::decoders::charsets::map::charset_decoder(b"iso-2022-jp") {
                    Some(f) => Cow::Owned(decode_iso2022jp(b, f)),
                    None => lossy(b),
                }
            } else {
                // 8-bit bytes: a piece could start with a byte order mark,
                // which the decoder honours at the start of its input only
                match mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()) {
                    Some(f) => Cow::Owned(f(b)),
                    None => lossy(b),
                }
            }
        }
        // declared ASCII but 8-bit: UTF-8 when it is valid, else Windows-1252
        "us-ascii" | "ascii" => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
                    Some(f) => Cow::Owned(f(b)),
                    None => lossy(b),
                }
            }
        },
        _ => match mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()) {
            Some(f) => Cow::Owned(f(b)),
            None => lossy(b),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    #[test]
    fn base64_lenient() {
        assert_eq!(base64(b"SGVsbG8s\r\nIHdvcmxk\nIQ=="), b"Hello, world!");
        assert_eq!(base64(b"QQ==QkM="), b"ABC");
        assert_eq!(base64(b"  !!SGk"), b"Hi");
    }

    #[test]
    fn iso2022jp_pieces_decode_like_the_whole() {
        let whole =
            mail_parser::decoders::charsets::map::charset_decoder(b"iso-2022-jp").expect("decoder");
        // escapes, JIS X 0208 pairs, kana, broken sequences and plain text
        let pieces: &[&[u8]] = &[
            b"\x1b$B",
            b"\x1b(B",
            b"\x1b(J",
            b"\x1b(I",
            b"\x1b$@",
            b"\x1b",
            b"(",
            b"$",
            b"B",
            b"%K%c!<%s",
            b"F|K\\",
            b"abc ",
            b"\n",
            b"\x0e",
            b"\x0f",
            b"\x7f",
            b"\x00",
            b"~\\",
            b"!",
        ];
        let mut next = crate::bounce::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..50_000 {
            let mut input = Vec::new();
            for _ in 0..next() % 24 {
                input.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            assert_eq!(decode_iso2022jp(&input, whole), whole(&input), "{:?}", input);
        }
    }

    #[test]
    fn delimiter_search_is_memmem() {
        let long = b"--=_Part_0123456789abcdefghijklmnopqrstuvwxyz_X";
        let pieces: &[&[u8]] = &[
            b"--",
            b"=_Part_0123456789abcdefghijklmnopqr",
            b"stuvwxyz_X",
            b"stuvwxyz_Y",
            b"\n",
            b"x",
            &long[..],
            b"--ab",
        ];
        let mut next = crate::bounce::xorshift(0xA076_1D64_78BD_642F);
        for needle in [&long[..], &b"--ab"[..], &long[..33]] {
            for _ in 0..20_000 {
                let mut hay = Vec::new();
                for _ in 0..next() % 60 {
                    hay.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
                // one finder over several searches, as split_multipart uses it
                let f = DelimFinder::new(needle);
                for from in [0, hay.len() / 3, hay.len() / 2] {
                    let h = &hay[from..];
                    assert_eq!(f.find(h), memchr::memmem::find(h, needle));
                }
            }
        }
    }

    #[test]
    fn jis_plain_search() {
        for b in [&b"abc"[..], b"a\x1bb", b"\x0e", b"ab\x0f", b"a\xffb\x1b", b"\xc3\xa9", b""] {
            for pos in 0..=b.len() + 1 {
                let want = b
                    .get(pos..)
                    .and_then(|r| r.iter().position(|&c| !jis_plain(c)))
                    .map_or(b.len(), |p| pos + p);
                assert_eq!(first_not_jis_plain(b, pos), want, "{b:?} {pos}");
            }
        }
    }

    #[test]
    fn last_fields_are_the_message_accessors() {
        let fields = [
            "From: A <a@b.c>\n",
            "From: second@x.y\n",
            "To: t@u.v, w@x.y\n",
            "To: =?utf-8?q?T=C3=A9?= <t2@u.v>\n",
            "Cc: c@d.e\n",
            "Subject: one\n",
            "Subject: =?utf-8?b?dHfDqw==?=\n",
            "Message-ID: <id1@x>\n",
            "Message-Id: <id2@x>\n",
            "Content-Type: text/plain; charset=utf-8\n",
            "content-type: multipart/report; boundary=\"b\"\n",
            "X-Other: v\n",
            "Received: from x\n by y\n",
            "from: bare@lower.case\n",
            "Content-Disposition: attachment; filename=\"a.txt\"\n",
            "Content-Disposition: inline\n",
            "Content-Type: application/octet-stream; name=b.bin\n",
            "Content-Transfer-Encoding: base64\n",
            "Content-Transfer-Encoding:  Quoted-Printable \n",
        ];
        let mut seed = 7u64;
        for _ in 0..3000 {
            let mut head = String::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut x = seed;
            for _ in 0..(x % 9) {
                x = x.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
                head.push_str(fields[(x % fields.len() as u64) as usize]);
            }
            head.push_str("\nbody\n");
            // mail-parser's own parse of the header (the engine's parser set-up)
            let data = head.as_bytes();
            let parsed = crate::bounce::parser().parse_headers(data);
            let nested = header_message(data);
            let root = walk(data).map(|w| w.0);
            let any = parsed.as_ref().is_some_and(|m| m.field_count() > 0);
            assert_eq!(nested.is_some(), any, "{head}");
            assert_eq!(root.is_some(), any, "{head}");
            let (Some(m), Some(nested), Some(root)) = (parsed, nested, root) else { continue };
            let p = &m.parts[0];
            // an attached message's header: the address fields, Subject, Message-ID
            let k = nested.last_fields();
            assert_eq!(k.from(), m.from(), "{head}");
            assert_eq!(k.to(), m.to(), "{head}");
            assert_eq!(k.cc(), m.cc(), "{head}");
            assert_eq!(k.subject(), m.subject(), "{head}");
            assert_eq!(k.message_id(), m.message_id(), "{head}");
            // the bounce's own header: From, Subject, Message-ID, the MIME
            // fields, and To on demand
            let k = root.last_fields();
            assert_eq!(k.from(), m.from(), "{head}");
            assert_eq!(k.subject(), m.subject(), "{head}");
            assert_eq!(k.message_id(), m.message_id(), "{head}");
            assert_eq!(k.content_type(), m.content_type(), "{head}");
            let to: Vec<String> = m
                .to()
                .into_iter()
                .flat_map(crate::bounce::headers::addrs)
                .filter_map(|a| a.address())
                .map(|x| x.trim_ws().to_ascii_lowercase())
                .collect();
            assert_eq!(root_to_addrs(&root), to, "{head}");
            // a MIME part's header: the MIME fields and whether there is a Message-ID
            for h in [&root, &parse_head(data, Want::Part)] {
                let k = h.last_fields();
                assert_eq!(k.content_type(), p.content_type(), "{head}");
                assert_eq!(k.content_disposition(), p.content_disposition(), "{head}");
                assert_eq!(k.content_transfer_encoding(), p.content_transfer_encoding(), "{head}");
                assert_eq!(k.attachment_name(), p.attachment_name(), "{head}");
                let any_id = p.headers.iter().any(|h| h.name == HeaderName::MessageId);
                assert_eq!(k.has_message_id(), any_id, "{head}");
            }
            // the same fields in the same order, read the same way
            for h in [&root, &nested] {
                assert_eq!(h.field_count(), m.field_count(), "{head}");
                for ((n, v), (mn, mv)) in h.raw_fields().zip(m.raw_fields()) {
                    assert!(eq_ci(n, mn), "{head}");
                    assert_eq!(v, mv, "{head}");
                }
            }
        }
    }

    #[test]
    fn eq_lower_is_eq_ci() {
        fn check<const N: usize>(cand: &'static [u8; N]) {
            let mut seed = N as u64 * 77 + 5;
            let mut names: Vec<Vec<u8>> = vec![cand.to_vec(), cand.to_ascii_uppercase()];
            for _ in 0..3000 {
                let mut v = cand.to_vec();
                for _ in 0..3 {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let k = (seed >> 33) as usize % N;
                    let pick = [0x20u8, 0x01, 0x40, 0x80, 0x60, 0x0D][(seed >> 20) as usize % 6];
                    if (seed >> 10) & 1 == 0 {
                        v[k] ^= pick;
                    } else {
                        v[k] = (seed >> 40) as u8;
                    }
                }
                names.push(v);
            }
            for c in 0u8..=255 {
                let mut v = cand.to_vec();
                v[N - 1] = c;
                names.push(v.clone());
                v[0] = c;
                names.push(v);
            }
            names.push(cand[..N - 1].to_vec());
            names.push([&cand[..], b"x"].concat());
            for n in &names {
                assert_eq!(eq_lower(n, cand), eq_ci(n, cand), "{n:?} {cand:?}");
            }
        }
        check(b"to");
        check(b"cc");
        check(b"from");
        check(b"subject");
        check(b"message-id");
        check(b"content-type");
        check(b"content-disposition");
        check(b"content-transfer-encoding");
    }

    #[test]
    fn quoted_printable_soft_breaks() {
        assert_eq!(
            quoted_printable(b"caf=C3=A9 =\r\nbar= \nbaz=3d=zz="),
            "café barbaz==zz".as_bytes()
        );
    }

    #[test]
    fn walks_nested_multiparts() {
        let m = b"From: a@b\nContent-Type: multipart/mixed; boundary=\"X\"\n\npre\n--X\nContent-Type: multipart/alternative; boundary=Y\n\n--Y\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n--Y\nContent-Type: text/html\n\n<p>x</p>\n--Y--\n--X\nContent-Type: message/rfc822\n\nMessage-ID: <a@b>\nSubject: s\n\nbody\n--Xtra\n--X--\nepilogue";
        let (msg, leaves) = walk(m).expect("parsed");
        assert!(msg.last_fields().from().is_some());
        let kinds: Vec<String> =
            leaves.iter().map(|l| format!("{}/{}", l.ctype, l.subtype)).collect();
        assert_eq!(kinds, ["text/plain", "text/html", "message/rfc822"]);
        assert_eq!(leaves[0].text(), "café");
        assert_eq!(leaves[1].text(), "<p>x</p>");
        // "--Xtra" is not a delimiter of "X"
        assert_eq!(leaves[2].text(), "Message-ID: <a@b>\nSubject: s\n\nbody\n--Xtra");
        assert!(!leaves[0].is_root);
    }

    #[test]
    fn missing_boundary_keeps_the_multipart_whole() {
        let m = b"Content-Type: multipart/report; boundary=\"nowhere\"\r\n\r\n--else\r\nhi\r\n";
        let (_, leaves) = walk(m).expect("parsed");
        assert_eq!(leaves.len(), 1);
        assert_eq!(leaves[0].ctype, "multipart");
        assert!(leaves[0].is_root);
        assert!(walk(b"\n\nno header").is_none());
    }

    #[test]
    fn crlf_parts_end_before_the_line_break() {
        let m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--b--\r\n";
        let (_, leaves) = walk(m).expect("parsed");
        let t: Vec<String> = leaves.iter().map(|l| l.text().into_owned()).collect();
        assert_eq!(t, ["one", "two"]);
    }
}
