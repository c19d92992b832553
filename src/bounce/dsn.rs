//! RFC 3464 / RFC 6533 delivery-status field parser.
//!
//! The body of a `message/delivery-status` part is a group of per-message
//! fields followed by one group of per-recipient fields per recipient, groups
//! separated by blank lines.  Real-world reports break the rules (no blank
//! line between groups, several recipients in one group, fields in the wrong
//! group, folded lines, comments), so the parser is lenient: per-message
//! fields are collected wherever they appear, and a new recipient starts at a
//! blank line or at a second Final-Recipient/Original-Recipient in a group.

use super::text::TrimWs;
use super::text::{find_enhanced_status, lines, normalize_address, squash_ws, squash_ws_cow};
use super::RecipientStatus;
use std::borrow::Cow;

/// Per-message fields of a DSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DsnMessage {
    pub reporting_mta: Option<String>,
    pub original_envelope_id: Option<String>,
    pub arrival_date: Option<String>,
    pub received_from_mta: Option<String>,
    pub x_original_message_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Dsn {
    pub message: DsnMessage,
    pub recipients: Vec<RecipientStatus>,
}

const MAX_FIELD: usize = 1000;
const MAX_RECIPIENTS: usize = 200;

/// Strip `(comments)` (not nested-aware beyond depth counting) from a value.
pub fn strip_comments(v: &str) -> String {
    strip_comments_cow(v).into_owned()
}

/// [`strip_comments`], borrowing when there is no comment.
fn strip_comments_cow(v: &str) -> Cow<'_, str> {
    if !v.contains('(') {
        return Cow::Borrowed(v.trim_ws());
    }
    let mut out = String::with_capacity(v.len());
    let mut depth = 0u32;
    for ch in v.chars() {
        match ch {
            '(' => depth = depth.saturating_add(1),
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    Cow::Owned(out.trim_ws().to_string())
}

/// The bytes of a type name: ASCII letters and digits, '-', '_' and '.'.
static TYPE_BYTE: [bool; 256] = {
    let mut t = super::text::NAME_BYTE;
    t[b'.' as usize] = true;
    t
};

/// Remove an address-type / diagnostic-type / mta-name-type prefix
/// ("rfc822;", "smtp;", "dns;", "X-Unix;").
pub fn strip_type(v: &str) -> &str {
    let t = v.trim_ws();
    if let Some(p) = t.find(';') {
        let ty = t.get(..p).unwrap_or("").trim_ws();
        if !ty.is_empty() && ty.len() <= 20 && super::text::all_bytes_in(ty.as_bytes(), &TYPE_BYTE)
        {
            return t.get(p + 1..).unwrap_or("").trim_ws();
        }
    }
    t
}

fn address_value(v: &str) -> Option<String> {
    let v = strip_type(v);
    let v = strip_comments_cow(v);
    let v = v.trim_ws();
    normalize_address(v).or_else(|| {
        // utf-8 / x-unix types may hold odd values; keep something readable
        if v.is_empty() {
            None
        } else {
            Some(squash_ws(v, 200))
        }
    })
}

/// One line of a block as a field: (name, value), or junk ("", "") when it
/// is not a `Name: value` line (the text of junk is never read).
fn field_of(line: &str) -> (&str, &str) {
    if let Some(colon) = super::text::find_colon(line.as_bytes()) {
        let name = line.get(..colon).unwrap_or("").trim_ws();
        if !name.is_empty() && name.len() < 80 && super::text::all_name_bytes(name.as_bytes()) {
            return (name, line.get(colon + 1..).unwrap_or("").trim_ws());
        }
    }
    ("", "")
}

fn rcpt_is_empty(r: &RecipientStatus) -> bool {
    r.final_recipient.is_none()
        && r.original_recipient.is_none()
        && r.action.is_none()
        && r.status.is_none()
        && r.diagnostic_code.is_none()
}

fn flush(cur: &mut RecipientStatus, dsn: &mut Dsn) {
    if !rcpt_is_empty(cur)
        && (cur.final_recipient.is_some()
            || cur.original_recipient.is_some()
            || cur.action.is_some()
            || cur.status.is_some())
        && dsn.recipients.len() < MAX_RECIPIENTS
    {
        dsn.recipients.push(std::mem::take(cur));
    } else {
        *cur = RecipientStatus::default();
    }
}

/// Parse the text of a delivery-status part.
///
/// One pass over the lines: a field is applied once the next line shows it
/// has no more continuation lines; blank lines end a recipient group.
pub fn parse(text: &str) -> Dsn {
    let mut dsn = Dsn::default();
    let mut cur = RecipientStatus::default();
    // the last field line and its unfolded value (borrowed unless continued)
    let mut pending: Option<(&str, Cow<'_, str>)> = None;
    for line in lines(text) {
        if super::text::is_blank(line) {
            if let Some((n, v)) = pending.take() {
                apply(&mut dsn, &mut cur, n, &v);
            }
            flush(&mut cur, &mut dsn);
            continue;
        }
        if matches!(line.as_bytes().first(), Some(b' ' | b'\t')) {
            if let Some((n, v)) = pending.as_mut() {
                if !n.is_empty() && v.len() < MAX_FIELD * 4 {
                    let v = v.to_mut();
                    v.push(' ');
                    v.push_str(line.trim_ws());
                }
                continue;
            }
        }
        if let Some((n, v)) = pending.take() {
            apply(&mut dsn, &mut cur, n, &v);
        }
        let (n, v) = field_of(line);
        pending = Some((n, Cow::Borrowed(v)));
    }
    if let Some((n, v)) = pending.take() {
        apply(&mut dsn, &mut cur, n, &v);
    }
    flush(&mut cur, &mut dsn);
    dsn
}

/// Apply one unfolded field to the report and the current recipient.
fn apply(dsn: &mut Dsn, cur: &mut RecipientStatus, name: &str, value: &str) {
    // lower-case the name in a stack buffer (names are < 80 bytes)
    let mut buf = [0u8; 80];
    let Some(nb) = buf.get_mut(..name.len()) else { return };
    nb.copy_from_slice(name.as_bytes());
    nb.make_ascii_lowercase();
    // the value is squashed only for the fields read (borrowed when it is
    // squashed already)
    let squashed = || squash_ws_cow(value, MAX_FIELD);
    match &*nb {
        b"reporting-mta" if dsn.message.reporting_mta.is_none() => {
            dsn.message.reporting_mta = Some(strip_comments(strip_type(&squashed())));
        }
        b"original-envelope-id" => {
            dsn.message.original_envelope_id = Some(squashed().trim_ws().to_string())
        }
        b"arrival-date" => dsn.message.arrival_date = Some(squashed().into_owned()),
        b"received-from-mta" => {
            dsn.message.received_from_mta = Some(strip_type(&squashed()).to_string())
        }
        b"x-original-message-id" | b"original-message-id"
            if dsn.message.x_original_message_id.is_none() =>
        {
            dsn.message.x_original_message_id = super::headers::bare_message_id(&squashed());
        }
        b"final-recipient" => {
            if cur.final_recipient.is_some() {
                flush(cur, dsn);
            }
            cur.final_recipient = address_value(&squashed());
        }
        b"original-recipient" => {
            if cur.original_recipient.is_some()
                || (cur.final_recipient.is_some() && cur.action.is_some())
            {
                flush(cur, dsn);
            }
            cur.original_recipient = address_value(&squashed());
        }
        b"x-actual-recipient" if cur.final_recipient.is_none() => {
            cur.final_recipient = address_value(&squashed());
        }
        b"action" => {
            if cur.action.is_some() {
                flush(cur, dsn);
            }
            // (lower-casing does not move white space: the first word of the lower-cased value)
            let a = strip_comments_cow(&squashed())
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            cur.action = if a.is_empty() { None } else { Some(a) };
        }
        b"status" => {
            let sq = squashed();
            let s = strip_comments_cow(&sq);
            cur.status = find_enhanced_status(&s).or_else(|| {
                let t = s.split_whitespace().next().unwrap_or("");
                if t.is_empty() {
                    None
                } else {
                    Some(t.to_string())
                }
            });
        }
        b"remote-mta" => cur.remote_mta = Some(strip_comments(strip_type(&squashed()))),
        b"diagnostic-code" => cur.diagnostic_code = Some(strip_type(&squashed()).to_string()),
        b"last-attempt-date" => cur.last_attempt_date = Some(squashed().into_owned()),
        b"will-retry-until" => cur.will_retry_until = Some(squashed().into_owned()),
        b"final-log-id" => cur.final_log_id = Some(squashed().into_owned()),
        _ => {}
    }
}

/// Does the text look like it carries DSN fields (used for DSNs sent as
/// text/plain or with a wrong content type)?
pub fn looks_like_dsn(text: &str) -> bool {
    // Both recipient fields end in "recipient:": without one anywhere (a
    // SIMD scan over the colons) no line can qualify.
    let b = text.as_bytes();
    let colon = super::text::ByteFinder::new(b':');
    let mut from = 0;
    loop {
        let Some(p) = b.get(from..).and_then(|r| colon.find(r)).map(|k| from + k) else {
            return false;
        };
        if p >= 9 && b.get(p - 9..p).is_some_and(|w| super::text::eq_ci(w, b"recipient")) {
            break;
        }
        from = p + 1;
    }
    let mut has_rcpt = false;
    let mut has_action_or_status = false;
    for line in lines(text).take(400) {
        let l = line.trim_start();
        // all four field names start with f, o, a or s
        if !matches!(
            l.as_bytes().first(),
            Some(b'f' | b'F' | b'o' | b'O' | b'a' | b'A' | b's' | b'S')
        ) {
            continue;
        }
        if super::text::starts_with_ci(l, "final-recipient:")
            || super::text::starts_with_ci(l, "original-recipient:")
        {
            has_rcpt = true;
        } else if super::text::starts_with_ci(l, "action:")
            || super::text::starts_with_ci(l, "status:")
        {
            has_action_or_status = true;
        }
        if has_rcpt && has_action_or_status {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_dsn() {
        let t = "Reporting-MTA: dns; mx.example.org\r\nArrival-Date: Thu, 29 Apr 2010 23:34:45 +0900\r\n\r\nFinal-Recipient: rfc822; <Kijitora@Example.ORG>\r\nOriginal-Recipient: rfc822;kijitora@example.org\r\nAction: failed (bad)\r\nStatus: 5.1.1 (user unknown)\r\nRemote-MTA: dns; mx2.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1 <kijitora@example.org>...\r\n  User Unknown\r\n\r\nFinal-Recipient: rfc822; b@example.net\r\nAction: delayed\r\nStatus: 4.4.7\r\nWill-Retry-Until: Fri, 30 Apr 2010 23:34:45 +0900\r\n";
        let d = parse(t);
        assert_eq!(d.message.reporting_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(d.recipients.len(), 2);
        let r = &d.recipients[0];
        assert_eq!(r.final_recipient.as_deref(), Some("Kijitora@example.org"));
        assert_eq!(r.action.as_deref(), Some("failed"));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert_eq!(r.remote_mta.as_deref(), Some("mx2.example.org"));
        assert_eq!(
            r.diagnostic_code.as_deref(),
            Some("550 5.1.1 <kijitora@example.org>... User Unknown")
        );
        assert_eq!(d.recipients[1].action.as_deref(), Some("delayed"));
        assert!(d.recipients[1].will_retry_until.is_some());
    }

    #[test]
    fn no_blank_lines_and_lf_cr() {
        for sep in ["\n", "\r"] {
            let t = [
                "Reporting-MTA: dns; a.example",
                "Final-Recipient: rfc822; a@x.example",
                "Action: failed",
                "Status: 5.0.0",
                "Final-Recipient: rfc822; b@x.example",
                "Action: failed",
                "Status: 5.2.2",
                "X-Original-Message-ID: <abc@def>",
            ]
            .join(sep);
            let d = parse(&t);
            assert_eq!(d.recipients.len(), 2, "sep {:?}", sep);
            assert_eq!(d.recipients[1].status.as_deref(), Some("5.2.2"));
            assert_eq!(d.message.x_original_message_id.as_deref(), Some("abc@def"));
        }
    }

    #[test]
    fn garbage() {
        let d = parse(":::\n\u{0}\n(((\nAction:\nStatus: (\n");
        assert!(d.recipients.len() <= 1);
        let _ = parse("");
        assert!(looks_like_dsn("Final-Recipient: rfc822; a@b.c\nAction: failed\n"));
        assert!(!looks_like_dsn("hello"));
    }
}
