//! Recovering the original message's headers: from a parsed attached message,
//! from a bare header block (text/rfc822-headers, message/global-headers), or
//! from header lines quoted in the bounce's text.

use super::text::TrimWs;
use std::borrow::Cow;

use super::mime::HeaderView;

use super::text::{eq_ci, lines, normalize_address, squash_ws, starts_with_ci};

/// Headers of the original (bounced) message, as far as recovered.
#[derive(Debug, Clone, Default)]
pub struct OrigHeaders {
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// The date as reported (RFC 3339 if parseable, else the raw value).
    pub date: Option<String>,
    /// A Date field's value (white space squashed, never empty) not yet
    /// converted: most sources are never reported, so their dates are
    /// converted only when taken ([`OrigHeaders::take_date`]).
    pub(crate) date_raw: Option<String>,
    /// The Received values as found, white space not yet squashed (done only
    /// for the reported source: [`OrigHeaders::take_received`]).
    pub(crate) received_raw: Vec<String>,
    pub in_reply_to: Option<String>,
}

impl OrigHeaders {
    pub fn is_empty(&self) -> bool {
        self.message_id.is_none()
            && self.from.is_none()
            && self.to.is_empty()
            && self.subject.is_none()
            && self.date.is_none()
            && self.date_raw.is_none()
    }

    /// The date (RFC 3339 if parseable, else the raw value), moved out.
    pub fn take_date(&mut self) -> Option<String> {
        self.date.take().or_else(|| {
            self.date_raw.take().map(|raw| match parse_date(&raw) {
                Some(d) if d.is_valid() => rfc3339(&d),
                _ => raw,
            })
        })
    }

    /// The Received values, white space squashed, top first, moved out.
    pub fn take_received(&mut self) -> Vec<String> {
        std::mem::take(&mut self.received_raw)
            .into_iter()
            .map(|r| super::text::squash_ws_owned(r, 2000))
            .collect()
    }
}

/// `DateTime::parse_rfc822`, with a fast path for the usual
/// `[Ddd, ]D Mon YYYY HH:MM:SS +hhmm[ (comment)]` (white space squashed):
/// mail-parser's general parser costs a couple of thousand instructions.
fn parse_date(s: &str) -> Option<mail_parser::DateTime> {
    parse_usual_date(s).or_else(|| mail_parser::DateTime::parse_rfc822(s))
}

/// The date `DateTime::parse_rfc822` gives for `s` when `s` has the usual
/// form (exactly: single spaces, a month name as written in RFC 5322, four
/// zone digits), else None.
fn parse_usual_date(s: &str) -> Option<mail_parser::DateTime> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = s.as_bytes();
    let mut i = 0;
    // the day of the week (ignored)
    if b.len() > 5 && b[..3].iter().all(u8::is_ascii_alphabetic) && &b[3..5] == b", " {
        i = 5;
    }
    let digits = |i: usize, n: usize| -> Option<u32> {
        let d = b.get(i..i + n)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0, |v, &c| v * 10 + u32::from(c - b'0')))
    };
    let day_len = if b.get(i + 1) == Some(&b' ') { 1 } else { 2 };
    let day = digits(i, day_len)?;
    i += day_len;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let month = MONTHS.iter().position(|m| b.get(i + 1..i + 4) == Some(&m[..]))? as u8 + 1;
    i += 4;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let year = digits(i + 1, 4)?;
    i += 5;
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(sep(i, b' ') && sep(i + 3, b':') && sep(i + 6, b':') && sep(i + 9, b' ')) {
        return None;
    }
    let (hour, minute, second) = (digits(i + 1, 2)?, digits(i + 4, 2)?, digits(i + 7, 2)?);
    i += 10;
    let minus = match b.get(i) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    let zone = digits(i + 1, 4)?;
    i += 5;
    // nothing more but a comment
    if i < b.len() {
        let rest = b.get(i..)?;
        let inner = rest.strip_prefix(b" (")?.strip_suffix(b")")?;
        if inner.iter().any(|&c| matches!(c, b'(' | b')' | b'\\')) {
            return None;
        }
    }
    Some(mail_parser::DateTime {
        year: match year {
            0..=49 => year + 2000,
            50..=99 => year + 1900,
            _ => year,
        } as u16,
        month,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        tz_hour: ((zone / 100) % 24) as u8,
        tz_minute: ((zone % 100) % 60) as u8,
        tz_before_gmt: minus,
    })
}

/// A Date field's value for `OrigHeaders::date_raw`: squashed, None when blank.
fn date_raw(value: &str) -> Option<String> {
    Some(squash_ws(value, 200)).filter(|raw| !raw.is_empty())
}

const MAX_RECEIVED: usize = 30;
const MAX_BLOCK_LINES: usize = 300;

/// The bare Message-ID inside a header value: the content of the first
/// `<...>`, else the first token that contains '@'.  Whitespace removed.
pub fn bare_message_id(v: &str) -> Option<String> {
    let v = v.trim_ws();
    if let Some(open) = v.find('<') {
        let rest = v.get(open + 1..).unwrap_or("");
        if let Some(close) = rest.find('>') {
            let id = without_ws(rest.get(..close).unwrap_or(""));
            if !id.is_empty() && id.len() <= 998 {
                return Some(id);
            }
        }
    }
    let tok = v
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|t| t.contains('@'))?
        .trim_matches(|c| c == '<' || c == '>' || c == '"' || c == '(' || c == ')');
    if tok.is_empty() || tok.len() > 998 {
        None
    } else {
        Some(tok.to_string())
    }
}

/// `s` without its white space (Unicode), copied in one piece when it has none.
fn without_ws(s: &str) -> String {
    /// ASCII bytes other than white space (`char::is_whitespace` for ASCII).
    static PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 128 {
            t[c] = !matches!(c as u8, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
            c += 1;
        }
        t
    };
    if super::text::all_bytes_in(s.as_bytes(), &PLAIN) {
        return s.to_string();
    }
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn clean_id(id: &str) -> Option<String> {
    let t = without_ws(id.trim_ws().trim_start_matches('<').trim_end_matches('>'));
    if t.is_empty() || t.len() > 998 {
        None
    } else {
        Some(t)
    }
}

/// Undecoded ISO-2022-JP (raw escape sequences in a header, common in
/// Japanese mail) decoded to UTF-8.
pub fn decode_raw_jis(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\u{1b}') && s.is_ascii() {
        if let Some(dec) = mail_parser::decoders::charsets::map::charset_decoder(b"csiso2022jp") {
            return std::borrow::Cow::Owned(dec(s.as_bytes()));
        }
    }
    std::borrow::Cow::Borrowed(s)
}

/// `DateTime::to_rfc3339` without `format!`: the same digits, zero-padded to
/// the same widths (at least four for the year, two for the rest).
pub fn rfc3339(d: &mail_parser::DateTime) -> String {
    /// `v` in decimal, zero-padded to `width` digits, into `out` at `n`.
    fn num(out: &mut [u8; 40], n: &mut usize, v: u16, width: usize) {
        let mut digits = [b'0'; 5];
        let (mut len, mut x) = (0, v);
        loop {
            digits[4 - len] = b'0' + (x % 10) as u8;
            len += 1;
            x /= 10;
            if x == 0 || len == 5 {
                break;
            }
        }
        let len = len.max(width.min(5));
        for &c in &digits[5 - len..] {
            if let Some(slot) = out.get_mut(*n) {
                *slot = c;
            }
            *n += 1;
        }
    }
    // at most 5 + 5 * 3 + 1 + 2 * 3 = 27 bytes
    let mut buf = [0u8; 40];
    let mut n = 0;
    num(&mut buf, &mut n, d.year, 4);
    for (sep, v) in
        [(b'-', d.month), (b'-', d.day), (b'T', d.hour), (b':', d.minute), (b':', d.second)]
    {
        buf[n] = sep;
        n += 1;
        num(&mut buf, &mut n, v.into(), 2);
    }
    if d.tz_hour != 0 || d.tz_minute != 0 {
        buf[n] = if d.tz_before_gmt && (d.tz_hour > 0 || d.tz_minute > 0) { b'-' } else { b'+' };
        n += 1;
        num(&mut buf, &mut n, d.tz_hour.into(), 2);
        buf[n] = b':';
        n += 1;
        num(&mut buf, &mut n, d.tz_minute.into(), 2);
    } else {
        buf[n] = b'Z';
        n += 1;
    }
    // ASCII digits and separators only
    std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("").to_owned()
}

/// `Address::iter` without its boxed iterator: the addresses of a list, or
/// of all the groups in order.
pub(crate) fn addrs<'a, 'x>(
    a: &'a mail_parser::Address<'x>,
) -> impl Iterator<Item = &'a mail_parser::Addr<'x>> {
    let (list, groups): (&[mail_parser::Addr<'x>], &[mail_parser::Group<'x>]) = match a {
        mail_parser::Address::List(l) => (l, &[]),
        mail_parser::Address::Group(g) => (&[], g),
    };
    list.iter().chain(groups.iter().flat_map(|g| g.addresses.iter()))
}

/// `format!("{} <{}>", name, addr)`.
fn name_addr(name: &str, addr: &str) -> String {
    let mut s = String::with_capacity(name.len() + addr.len() + 3);
    s.push_str(name);
    s.push_str(" <");
    s.push_str(addr);
    s.push('>');
    s
}

/// Format an address list of mail-parser as "Name <addr>" strings / bare addrs.
fn first_address_display(from: Option<&mail_parser::Address<'_>>) -> Option<String> {
    let addr = from?.first()?;
    match (addr.name(), addr.address()) {
        (Some(n), Some(a)) if !n.trim_ws().is_empty() => {
            Some(name_addr(&squash_ws(n, 200), a.trim_ws()))
        }
        (_, Some(a)) => Some(a.trim_ws().to_string()),
        (Some(n), None) => Some(squash_ws(n, 200)),
        _ => None,
    }
}

/// `Message::headers_raw` restricted to the fields whose name passes `want`:
/// the same pairs in the same order (fields whose value is not UTF-8 are
/// skipped, as there), but only the wanted values are validated.
pub(crate) fn raw_headers_named(
    m: &impl HeaderView,
    want: impl Fn(&[u8]) -> bool,
) -> impl Iterator<Item = (&[u8], &str)> {
    m.raw_fields().filter_map(move |(name, v)| {
        if !want(name) {
            return None;
        }
        Some((name, std::str::from_utf8(v).ok()?))
    })
}

/// The last Subject of `m` when its raw value is 8-bit text that is not UTF-8
/// and has no encoded words: decoded in the charset the message declares for
/// its text, or Windows-1252 (what mail programs assume for undeclared 8-bit
/// header text) when it declares none, or UTF-8 / ASCII, which it is not.
fn raw_8bit_subject(m: &impl HeaderView) -> Option<String> {
    let (_, raw) = m.raw_fields().filter(|(n, _)| n.len() == 7 && eq_ci(n, b"subject")).last()?;
    if raw.is_ascii()
        || std::str::from_utf8(raw).is_ok()
        || memchr::memmem::find(raw, b"=?").is_some()
    {
        return None;
    }
    // (an attached message's Content-Type is not parsed by the walker)
    let ct = m.raw_fields().filter(|(n, _)| n.len() == 12 && eq_ci(n, b"content-type")).last();
    let ct = ct.map(|(_, v)| super::fastfield::parse_content_type(v));
    let declared = (ct.as_ref())
        .and_then(|v| v.as_content_type())
        .and_then(|ct| ct.attribute("charset"))
        .map(str::to_ascii_lowercase);
    let charset = declared
        .filter(|cs| !matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii"))
        .unwrap_or_else(|| "windows-1252".to_string());
    Some(super::mime::decode_charset(raw, Some(&charset)).into_owned())
}

/// Extract what we need from a (nested or header-only) parsed message.
pub(crate) fn from_message(m: &super::mime::Head<'_>) -> OrigHeaders {
    let last = m.last_fields();
    let mut o = OrigHeaders {
        message_id: last.message_id().and_then(clean_id),
        from: first_address_display(last.from()),
        ..Default::default()
    };
    // Raw 8-bit UTF-8 subjects (no encoded words) are used as they are;
    // mail-parser may mis-decode them.
    let raw_subject =
        raw_headers_named(m, |n| n.len() == 7 && eq_ci(n, b"subject")).next().map(|(_, v)| v);
    let subj = match raw_subject {
        Some(r) if !r.is_ascii() && !r.contains("=?") => Some(Cow::Borrowed(r)),
        _ => match last.subject() {
            // raw 8-bit bytes that are not UTF-8 (mail-parser read them with
            // replacement characters): the message's own charset, as mail
            // programs read them
            Some(s) if s.contains('\u{FFFD}') => {
                Some(raw_8bit_subject(m).map_or(Cow::Borrowed(s), Cow::Owned))
            }
            s => s.map(Cow::Borrowed),
        },
    };
    if let Some(s) = subj {
        let s = squash_ws(&decode_raw_jis(&s), 1000);
        if !s.is_empty() {
            // (the last Subject, as `last.subject()`)
            let raw_last = || raw_headers_named(m, |n| n.len() == 7 && eq_ci(n, b"subject")).last();
            let mended = s.contains('\u{FFFD}').then(raw_last).flatten();
            o.subject = mended.and_then(|(_, r)| super::text::mend_split_words(&s, r)).or(Some(s));
        }
    }
    for a in last.to().into_iter().chain(last.cc()).flat_map(addrs) {
        if let Some(addr) = a.address().and_then(normalize_address) {
            if o.to.len() < 50 && !o.to.contains(&addr) {
                o.to.push(addr);
            }
        }
    }
    /// 1 Received, 2 Date, 3 Message-ID, 4 In-Reply-To, 0 other (by length first)
    fn kind(n: &[u8]) -> u8 {
        let is = |w: &str| eq_ci(n, w.as_bytes());
        match n.len() {
            8 if is("received") => 1,
            4 if is("date") => 2,
            10 if is("message-id") => 3,
            11 if is("in-reply-to") => 4,
            _ => 0,
        }
    }
    for (name, value) in raw_headers_named(m, |n| kind(n) != 0) {
        let k = kind(name);
        if k == 1 {
            if o.received_raw.len() < MAX_RECEIVED {
                o.received_raw.push(value.to_string());
            }
        } else if k == 2 && o.date_raw.is_none() {
            o.date_raw = date_raw(value);
        } else if k == 3 && o.message_id.is_none() {
            o.message_id = bare_message_id(value);
        } else if k == 4 && o.in_reply_to.is_none() {
            o.in_reply_to = bare_message_id(value);
        }
    }
    o
}

/// Parse a bare header block (bytes) such as a text/rfc822-headers part.
///
/// A small hand-written scanner: it unfolds the fields and keeps only the ones
/// we need.  Message-ID, In-Reply-To, Date and Received are read raw; From,
/// To and Cc go through mail-parser's address parser (one field each); the
/// subject is RFC 2047 decoded by mail-parser only when it holds an encoded word.
pub fn from_header_block(block: &[u8]) -> OrigHeaders {
    let block = skip_leading_blank(block);
    from_header_lines(&super::text::lossy(block))
}

/// [`from_header_block`] of a block that is text already (no UTF-8 check).
pub(crate) fn from_header_str(block: &str) -> OrigHeaders {
    from_header_lines(block.trim_start_matches(['\r', '\n', ' ', '\t']))
}

/// The index in `WANTED` of a field name (`usize::MAX` for Received).
fn wanted_field(name: &str) -> Option<usize> {
    let is = |w: &str| eq_ci(name.as_bytes(), w.as_bytes());
    match name.len() {
        2 if is("to") => Some(3),
        2 if is("cc") => Some(4),
        4 if is("from") => Some(2),
        4 if is("date") => Some(5),
        7 if is("subject") => Some(1),
        8 if is("received") => Some(usize::MAX),
        10 if is("message-id") => Some(0),
        11 if is("in-reply-to") => Some(6),
        _ => None,
    }
}

fn from_header_lines(text: &str) -> OrigHeaders {
    let mut o = OrigHeaders::default();
    // (field index in WANTED or usize::MAX for Received, unfolded value:
    // borrowed unless continuation lines were appended)
    let mut cur: Option<(usize, Cow<'_, str>)> = None;
    let mut seen = [false; 7];
    for line in lines(text).take(5000) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.as_mut() {
                if v.len() < 16 * 1024 {
                    if let Cow::Borrowed(b) = v {
                        // room for more continuation lines (most fields that
                        // have one have several)
                        let mut owned = String::with_capacity(2 * (b.len() + line.len()) + 16);
                        owned.push_str(b);
                        *v = Cow::Owned(owned);
                    }
                    let v = v.to_mut();
                    v.push('\n');
                    v.push_str(line);
                }
            }
            continue;
        }
        if let Some((f, v)) = cur.take() {
            take_field(&mut o, f, &v);
        }
        // (`header_name` accepts every wanted name: no need to check the
        // bytes of the others, which are skipped either way)
        let Some(colon) = super::text::find_colon(line.as_bytes()) else { continue };
        let Some(name) = line.get(..colon) else { continue };
        let value = line.get(colon + 1..).unwrap_or("");
        // white space before the colon is obsolete syntax that mail-parser accepts
        match wanted_field(name.trim_end_matches([' ', '\t'])) {
            Some(usize::MAX) if o.received_raw.len() < MAX_RECEIVED => {
                cur = Some((usize::MAX, Cow::Borrowed(value)));
            }
            Some(usize::MAX) | None => {}
            // first occurrence wins, except To/Cc which accumulate
            Some(f) if !seen[f] || WANTED[f] == "to" || WANTED[f] == "cc" => {
                seen[f] = true;
                cur = Some((f, Cow::Borrowed(value)));
            }
            Some(_) => {}
        }
    }
    if let Some((f, v)) = cur.take() {
        take_field(&mut o, f, &v);
    }
    o
}

fn take_field(o: &mut OrigHeaders, f: usize, v: &str) {
    if f == usize::MAX {
        if o.received_raw.len() < MAX_RECEIVED {
            o.received_raw.push(v.to_string());
        }
        return;
    }
    match WANTED.get(f).copied().unwrap_or("") {
        "message-id" => {
            // (a `<` never closed is a field cut off mid-line: no id)
            o.message_id = bare_message_id(v).or_else(|| {
                v.split_whitespace()
                    .next()
                    .filter(|t| !t.starts_with('<') || t.ends_with('>'))
                    .and_then(clean_id)
            });
        }
        "in-reply-to" => o.in_reply_to = bare_message_id(v),
        "subject" => {
            let s = if v.contains("=?") {
                let mut raw = String::with_capacity(v.len() + 1);
                raw.push_str(v);
                raw.push('\n');
                let mut st = mail_parser::parsers::MessageStream::new(raw.as_bytes());
                st.parse_unstructured().into_text().map(|t| Cow::Owned(t.into_owned()))
            } else {
                Some(Cow::Borrowed(v))
            };
            if let Some(s) = s {
                let s = squash_ws(&decode_raw_jis(&s), 1000);
                if !s.is_empty() {
                    o.subject = super::text::mend_split_words(&s, v).or(Some(s));
                }
            }
        }
        "date" => o.date_raw = date_raw(v),
        name @ ("from" | "to" | "cc") => {
            let mut raw = String::with_capacity(v.len() + 1);
            raw.push_str(v);
            raw.push('\n');
            let hv = super::fastfield::parse_address(raw.as_bytes());
            let Some(list) = hv.as_address() else { return };
            if name == "from" {
                if let Some(addr) = list.first() {
                    o.from = match (addr.name(), addr.address()) {
                        (Some(n), Some(a)) if !n.trim_ws().is_empty() => {
                            Some(name_addr(&squash_ws(n, 200), a.trim_ws()))
                        }
                        (_, Some(a)) => Some(a.trim_ws().to_string()),
                        (Some(n), None) => Some(squash_ws(n, 200)),
                        _ => None,
                    };
                }
            } else {
                for a in addrs(list) {
                    if let Some(addr) = a.address().and_then(normalize_address) {
                        if o.to.len() < 50 && !o.to.contains(&addr) {
                            o.to.push(addr);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

const WANTED: &[&str] = &["message-id", "subject", "from", "to", "cc", "date", "in-reply-to"];

fn skip_leading_blank(b: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < b.len() && (b[i] == b'\r' || b[i] == b'\n' || b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    b.get(i..).unwrap_or(&[])
}

/// Remove a quoting prefix (`>`, `|`, whitespace) and return (rest, indent
/// of rest after the quote markers).
fn unquote(line: &str) -> (&str, usize) {
    let b = line.as_bytes();
    // `after_marker`: just past the last quote marker; `i`: past the blanks after it
    let (mut i, mut after_marker) = (0, 0);
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' => i += 1,
            b'>' | b'|' => {
                i += 1;
                after_marker = i;
            }
            _ => break,
        }
    }
    // indentation after quote markers (a single space after '>' is normal)
    (line.get(i..).unwrap_or(""), i - after_marker)
}

/// A "Name: value" header line (name is an RFC 5322 field name without spaces).
fn header_name(s: &str) -> Option<&str> {
    // the name's bytes up to the first byte that cannot be in one: a header
    // line only when that byte is the first colon, 1 to 60 bytes in (no
    // search for a colon further on)
    use super::text::NAME_BYTE;
    let b = s.as_bytes();
    if !b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut n = 1;
    while n <= 60 && b.get(n).is_some_and(|&c| NAME_BYTE[usize::from(c)]) {
        n += 1;
    }
    if n <= 60 && b.get(n) == Some(&b':') {
        s.get(..n)
    } else {
        None
    }
}

const COMMON_HEADERS: &[&str] = &[
    "received",
    "return-path",
    "message-id",
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "x-mailer",
    "reply-to",
    "sender",
    "references",
    "in-reply-to",
    "user-agent",
    "dkim-signature",
    "delivered-to",
    "x-originating-ip",
    "list-id",
    "x-spam-status",
    "authentication-results",
    "thread-index",
    "thread-topic",
    "x-ms-exchange-organization-authas",
    "importance",
    "x-priority",
    "envelope-to",
];

/// Per name length, the bit set of the [`COMMON_HEADERS`] of that length.
static COMMON_BY_LEN: [u32; 64] = {
    assert!(COMMON_HEADERS.len() <= 32);
    let mut t = [0u32; 64];
    let mut i = 0;
    while i < COMMON_HEADERS.len() {
        t[COMMON_HEADERS[i].len()] |= 1 << i;
        i += 1;
    }
    t
};

/// Is `name` one of [`COMMON_HEADERS`] (ASCII case ignored)?  Only the
/// names of its length are compared.
fn is_common_header(name: &[u8]) -> bool {
    let mut cands = COMMON_BY_LEN.get(name.len()).copied().unwrap_or(0);
    while cands != 0 {
        let i = cands.trailing_zeros() as usize;
        cands &= cands - 1;
        if COMMON_HEADERS.get(i).is_some_and(|c| eq_ci(c.as_bytes(), name)) {
            return true;
        }
    }
    false
}

/// A header block found quoted in text.
pub struct QuotedBlock {
    pub headers: OrigHeaders,
    pub anchor: &'static str,
}

/// Look for quoted header lines of the original message in the text.
/// `skip_id` is the bounce's own Message-ID (never reported).
pub fn find_quoted(text: &str, skip_id: Option<&str>, max_lines: usize) -> Option<QuotedBlock> {
    // Cheap first pass without collecting the lines: most texts hold no
    // anchor line at all.  Lines before the first anchor are skipped by the
    // main loop anyway (no fallback can exist before an anchor).
    let is_anchor = |line: &str| {
        let (s, _) = unquote(line);
        match s.as_bytes().first() {
            Some(b'm' | b'M') => {
                starts_with_ci(s, "message-id:") || starts_with_ci(s, "message-id :")
            }
            Some(b's' | b'S') => starts_with_ci(s, "subject:"),
            _ => false,
        }
    };
    // one pass over the lines: kept (the block may start above its anchor)
    // until the first anchor shows whether there is anything to look at
    let mut all: Vec<&str> = Vec::with_capacity(128);
    let mut it = lines(text).take(max_lines);
    let first = loop {
        let line = it.next()?;
        all.push(line);
        if is_anchor(line) {
            break all.len() - 1;
        }
    };
    all.extend(it);
    // the Subject-anchored block (its lines and indent) and its fields, with
    // the Message-ID (dropped when it is used): a Message-ID anchor in the
    // same block reuses them instead of parsing the block again
    let mut fallback: Option<(BlockKey, OrigHeaders)> = None;
    let mut own_candidate: Option<QuotedBlock> = None;
    for (i, line) in all.iter().enumerate().skip(first) {
        let (s, _) = unquote(line);
        // both anchors start with 'm' or 's'
        if !matches!(s.as_bytes().first(), Some(b'm' | b'M' | b's' | b'S')) {
            continue;
        }
        let is_mid = starts_with_ci(s, "message-id:") || starts_with_ci(s, "message-id :");
        let is_subject = !is_mid && fallback.is_none() && starts_with_ci(s, "subject:");
        if !is_mid && !is_subject {
            continue;
        }
        let key = collect_block(&all, i);
        if is_subject {
            let (block, n_headers, has_common) = block_text(&all, key, true);
            // only accept a Subject anchor in a convincing header block
            if n_headers >= 3 && has_common >= 2 {
                let h = from_header_str(&block);
                if !h.is_empty() {
                    fallback = Some((key, h));
                }
            }
            continue;
        }
        let mut h = match &fallback {
            Some((k, h)) if *k == key => h.clone(),
            _ => from_header_str(&block_text(&all, key, false).0),
        };
        if h.message_id.is_none() {
            // mail-parser may reject odd ids: take the raw value
            let raw = s.split_once(':').map(|x| x.1).unwrap_or("");
            let raw = if raw.trim_ws().is_empty() {
                all.get(i + 1).map(|l| unquote(l).0).unwrap_or("")
            } else {
                raw
            };
            h.message_id = bare_message_id(raw);
        }
        match (&h.message_id, skip_id) {
            (None, _) => continue,
            (Some(id), Some(own)) if id == own => {
                // Usually the bounce's own header quoted back; the caller
                // decides (some MTAs reuse the original's Message-ID).
                if own_candidate.is_none() {
                    own_candidate = Some(QuotedBlock { headers: h, anchor: "message-id" });
                }
                continue;
            }
            _ => {}
        }
        return Some(QuotedBlock { headers: h, anchor: "message-id" });
    }
    own_candidate.or_else(|| {
        fallback.map(|(_, h)| QuotedBlock {
            headers: OrigHeaders { message_id: None, ..h },
            anchor: "subject",
        })
    })
}

/// A header block of `collect_block`: its lines (start, end) and the indent
/// of its anchor line, which make its text.
type BlockKey = (usize, usize, usize);

/// The header block around line `at`: its lines and its anchor's indent.
fn collect_block(all: &[&str], at: usize) -> BlockKey {
    let (_, base_indent) = all.get(at).map(|l| unquote(l)).unwrap_or(("", 0));
    let classify = |l: &str| -> Option<bool> {
        // Some(true) header line, Some(false) continuation, None stop
        let (s, indent) = unquote(l);
        if super::text::is_blank(s) {
            return None;
        }
        if indent <= base_indent {
            if header_name(s).is_some() {
                return Some(true);
            }
            return None;
        }
        Some(false)
    };
    let mut start = at;
    while start > 0 && at - start < MAX_BLOCK_LINES {
        match all.get(start - 1).and_then(|l| classify(l)) {
            Some(_) => start -= 1,
            None => break,
        }
    }
    // A block cannot start with a continuation line.
    while start < at && all.get(start).and_then(|l| classify(l)) == Some(false) {
        start += 1;
    }
    let mut end = at + 1;
    while end < all.len() && end - at < MAX_BLOCK_LINES {
        match all.get(end).and_then(|l| classify(l)) {
            Some(_) => end += 1,
            None => break,
        }
    }
    (start, end, base_indent)
}

/// The text of a header block of `collect_block`, the number of its header
/// lines and how many of them have common names (counted only when
/// `count_common`, else 0).
fn block_text(
    all: &[&str],
    (start, end, base_indent): BlockKey,
    count_common: bool,
) -> (String, usize, usize) {
    let lines = all.get(start..end).unwrap_or(&[]);
    let mut block = String::with_capacity(lines.iter().map(|l| l.len() + 2).sum::<usize>() + 2);
    let mut n = 0;
    let mut common = 0;
    for l in lines {
        let (s, indent) = unquote(l);
        // a header line as `classify` sees it (a field name is never blank)
        if let Some(name) = header_name(s).filter(|_| indent <= base_indent) {
            n += 1;
            if count_common && is_common_header(name.as_bytes()) {
                common += 1;
            }
            if !block.is_empty() {
                block.push('\n');
            }
            block.push_str(s.trim_end());
        } else {
            block.push_str("\n ");
            block.push_str(s.trim_ws());
        }
    }
    block.push_str("\n\n");
    (block, n, common)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ids() {
        assert_eq!(bare_message_id(" <a@b> ").as_deref(), Some("a@b"));
        assert_eq!(bare_message_id("a@b (comment)").as_deref(), Some("a@b"));
        assert_eq!(bare_message_id("<a@\r\n b>").as_deref(), Some("a@b"));
        assert_eq!(bare_message_id(""), None);
    }

    #[test]
    fn quoted_block_in_text() {
        let t = "Sorry.\n\n--- original message ---\n> Received: from x\n>     by y; Thu, 1 Jan 2015 00:00:00 +0000\n> Message-ID: <orig@example.com>\n> From: Me <me@example.com>\n> To: You@Example.NET\n> Subject: =?utf-8?q?h=C3=A9llo?=\n> Date: Thu, 01 Jan 2015 00:00:00 +0000\n>\n> body\n";
        let q = find_quoted(t, Some("own@x"), 1000).expect("quoted headers");
        assert_eq!(q.headers.message_id.as_deref(), Some("orig@example.com"));
        assert_eq!(q.headers.subject.as_deref(), Some("héllo"));
        assert_eq!(q.headers.to, vec!["You@example.net".to_string()]);
        assert_eq!(q.headers.clone().take_received().len(), 1);
        assert_eq!(q.headers.clone().take_date().as_deref(), Some("2015-01-01T00:00:00Z"));
    }

    #[test]
    fn subject_before_message_id_in_one_block() {
        let t = "Failed.\n\n> From: Me <me@example.com>\n> To: you@example.net\n> Subject: Hi there\n> Date: Thu, 01 Jan 2015 00:00:00 +0000\n> Message-ID: <orig@example.com>\n>\n> body\n";
        let q = find_quoted(t, Some("own@x"), 1000).expect("quoted headers");
        assert_eq!(q.anchor, "message-id");
        assert_eq!(q.headers.message_id.as_deref(), Some("orig@example.com"));
        assert_eq!(q.headers.subject.as_deref(), Some("Hi there"));
        assert_eq!(q.headers.to, vec!["you@example.net".to_string()]);
        // the same block when its Message-ID is the bounce's own: the
        // Subject anchor's block, without the id
        let q = find_quoted(t, Some("orig@example.com"), 1000).expect("quoted headers");
        assert_eq!(q.anchor, "message-id");
        let t2 = t.replace("Message-ID: <orig@example.com>", "Message-ID: <>");
        let q = find_quoted(&t2, Some("own@x"), 1000).expect("quoted headers");
        assert_eq!(q.anchor, "subject");
        assert_eq!(q.headers.message_id, None);
        assert_eq!(q.headers.subject.as_deref(), Some("Hi there"));
    }

    #[test]
    fn header_name_is_the_colon_search() {
        // the former definition: the text before the first colon, checked
        fn reference(s: &str) -> Option<&str> {
            let colon = s.find(':')?;
            let name = s.get(..colon)?;
            let b = name.as_bytes();
            (!name.is_empty()
                && name.len() <= 60
                && b[0].is_ascii_alphabetic()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'))
            .then_some(name)
        }
        let long = "x".repeat(59);
        let pieces = ["a", "Z", "9", "-", "_", ":", " ", "\t", "é", ">", &long, "From"];
        let mut next = crate::bounce::xorshift(0x1319_8A2E_0370_7344);
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..next() % 8 {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            assert_eq!(header_name(&s), reference(&s), "{s:?}");
        }
    }

    #[test]
    fn common_header_lookup_is_the_list_search() {
        let mut names: Vec<String> = COMMON_HEADERS.iter().map(|c| c.to_string()).collect();
        names.extend(COMMON_HEADERS.iter().map(|c| c.to_ascii_uppercase()));
        names.extend(COMMON_HEADERS.iter().map(|c| format!("{c}x")));
        names.extend(COMMON_HEADERS.iter().map(|c| c.replace('-', "_")));
        names.extend(["", "x", "X-Other", &"a".repeat(70)].map(String::from));
        for n in &names {
            let expected = COMMON_HEADERS.iter().any(|c| eq_ci(c.as_bytes(), n.as_bytes()));
            assert_eq!(is_common_header(n.as_bytes()), expected, "{n}");
        }
    }

    #[test]
    fn wanted_names_are_header_names() {
        for n in ["to", "Cc", "FROM", "date", "Subject", "received", "Message-ID", "in-reply-to"] {
            assert!(wanted_field(n).is_some());
            assert_eq!(header_name(&format!("{n}: x")), Some(n));
        }
    }

    #[test]
    fn addrs_are_address_iter() {
        for v in [&b" a@b, C <c@d>\n"[..], b" g: a@b, c@d; h: e@f;\n", b" x\n"] {
            let hv = mail_parser::parsers::MessageStream::new(v).parse_address();
            let a = hv.as_address().expect("address");
            assert_eq!(addrs(a).collect::<Vec<_>>(), a.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn own_id_skipped() {
        let t = "Message-ID: <own@x>\n\nMessage-Id: <b@c>\n";
        let q = find_quoted(t, Some("own@x"), 1000).expect("quoted headers");
        assert_eq!(q.headers.message_id.as_deref(), Some("b@c"));
    }
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn usual_dates_parse_as_mail_parser_parses_them() {
        let pieces: &[&[&str]] = &[
            &["", "Mon, ", "Tue, ", "mon, ", "Mo, ", "Mon,", "Mon ", "123, "],
            &["2", "02", "31", "0", "99", "123", "x", ""],
            &[" "],
            &[
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
                "jan", "JAN", "Foo", "Ja", "Sept",
            ],
            &[" ", "  "],
            &["2023", "1999", "0049", "0050", "0099", "9999", "23", "20234", "abcd"],
            &[" "],
            &["10:00:00", "23:59:59", "99:99:99", "1:00:00", "10:00", "10:0a:00", "10-00-00"],
            &[" "],
            &[
                "+0100", "-0800", "+0000", "-0000", "+2459", "+9999", "+100", "GMT", "+01:00",
                "-12345",
            ],
            &[
                "",
                " (UTC)",
                " (Pacific Standard Time)",
                " (a (b))",
                " (x\\)",
                " x",
                " ()",
                "(UTC)",
                ";",
            ],
        ];
        let mut next = crate::bounce::xorshift(0x4528_21E6_38D0_1377);
        let mut fast = 0;
        for _ in 0..200_000 {
            let mut s = String::new();
            for slot in pieces {
                // mostly the first choices: most strings are close to usual
                let k = (next() % (slot.len() as u64 * 2)) as usize;
                s.push_str(slot[if k < slot.len() { k } else { k % 3 % slot.len() }]);
            }
            if let Some(d) = super::parse_usual_date(&s) {
                fast += 1;
                assert_eq!(Some(d), mail_parser::DateTime::parse_rfc822(&s), "{s:?}");
            }
        }
        assert!(fast > 5_000, "{fast}");
    }
}

#[cfg(test)]
mod rfc3339_tests {
    #[test]
    fn rfc3339_is_mail_parsers() {
        let mut next = crate::bounce::xorshift(0x243F_6A88_85A3_08D3);
        for k in 0..100_000u32 {
            let year = match k % 4 {
                0 => (next() % 10_000) as u16,
                1 => u16::MAX - (next() % 3) as u16,
                _ => 1970 + (next() % 100) as u16,
            };
            let byte = |r: u64| if k % 3 == 0 { (r % 256) as u8 } else { (r % 60) as u8 };
            let d = mail_parser::DateTime {
                year,
                month: byte(next()),
                day: byte(next()),
                hour: byte(next()),
                minute: byte(next()),
                second: byte(next()),
                tz_before_gmt: next().is_multiple_of(2),
                tz_hour: if k % 5 == 0 { 0 } else { byte(next()) },
                tz_minute: if k % 7 == 0 { 0 } else { byte(next()) },
            };
            assert_eq!(super::rfc3339(&d), d.to_rfc3339(), "{d:?}");
        }
    }
}

#[cfg(test)]
mod jis_tests {
    #[test]
    fn raw_jis_subject() {
        assert_eq!(super::decode_raw_jis("\u{1b}$B%K%c!<%s\u{1b}(B"), "ニャーン");
    }
}
