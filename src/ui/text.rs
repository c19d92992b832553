//! Turning a raw message into plain text for the detail pane: never HTML, nothing fetched.
//! HTML parts are converted to text; attachments are named, not shown; everything is capped.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::fmt::Write as _;

/// The most text shown for one message (either view).
pub const TEXT_CAP: usize = 128 * 1024;
/// How deep attached messages are followed.
const MAX_DEPTH: usize = 3;

/// One message, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawView {
    /// Headers that matter and the readable parts, as plain text.
    pub text: String,
    /// The message source, decoded as UTF-8 where possible.
    pub source: String,
    /// The message's full size.
    pub size: u32,
    /// True when only the first part of a large message was fetched.
    pub truncated: bool,
}

/// Cuts `s` at `cap` bytes (on a character boundary) and says so.
fn cap(mut s: String) -> String {
    if s.len() > TEXT_CAP {
        let mut end = TEXT_CAP;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n\n[… cut here: the rest is not shown]");
    }
    s
}

/// The raw source as text (invalid UTF-8 replaced), capped.
pub fn source_text(raw: &[u8]) -> String {
    let end = raw.len().min(TEXT_CAP + 4);
    cap(String::from_utf8_lossy(&raw[..end]).into_owned())
}

/// The message as a person reads it: the main headers, then each text part in order; HTML as
/// text; attached messages with their headers; other attachments named only.
/// mail-parser 0.11.9 panics on some malformed nestings: then the source is shown instead
/// (this runs on the worker thread, which must survive any message).
pub fn readable_text(raw: &[u8]) -> String {
    std::panic::catch_unwind(|| {
        let msg = MessageParser::default().parse(raw)?;
        let mut out = String::new();
        describe(&msg, 0, &mut out);
        Some(cap(out))
    })
    .ok()
    .flatten()
    .unwrap_or_else(|| source_text(raw))
}

fn describe(msg: &mail_parser::Message<'_>, depth: usize, out: &mut String) {
    for (name, value) in [
        ("From", msg.header_raw("From")),
        ("To", msg.header_raw("To")),
        ("Date", msg.header_raw("Date")),
        ("Subject", msg.header_raw("Subject")),
        ("Message-ID", msg.header_raw("Message-ID")),
    ] {
        if let Some(v) = value {
            let decoded = match name {
                "Subject" => {
                    msg.subject().map(str::to_string).unwrap_or_else(|| v.trim().to_string())
                }
                _ => v.split_whitespace().collect::<Vec<_>>().join(" "),
            };
            let _ = writeln!(out, "{name}: {decoded}");
        }
    }
    out.push('\n');
    for part in msg.parts.iter() {
        if out.len() > TEXT_CAP {
            return;
        }
        let ctype = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "text/plain".into())
            .to_ascii_lowercase();
        match &part.body {
            PartType::Text(t) => {
                if ctype != "text/plain" {
                    let _ = writeln!(out, "──── {ctype} ────");
                }
                out.push_str(t.trim_end());
                out.push_str("\n\n");
            }
            PartType::Html(h) => {
                let _ = writeln!(out, "──── {ctype} (shown as plain text) ────");
                out.push_str(mail_parser::decoders::html::html_to_text(h).trim_end());
                out.push_str("\n\n");
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                if ctype.starts_with("message/") || ctype.starts_with("text/") {
                    let _ = writeln!(out, "──── {ctype} ────");
                    let end = b.len().min(TEXT_CAP);
                    out.push_str(String::from_utf8_lossy(&b[..end]).trim_end());
                    out.push_str("\n\n");
                } else {
                    let name = part.attachment_name().unwrap_or("unnamed");
                    let _ = writeln!(
                        out,
                        "──── attachment {name} ({ctype}, {} bytes, not shown) ────\n",
                        b.len()
                    );
                }
            }
            PartType::Message(inner) => {
                let _ = writeln!(out, "──── attached message ({ctype}) ────");
                if depth < MAX_DEPTH {
                    describe(inner, depth + 1, out);
                }
            }
            PartType::Multipart(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_and_attachments_are_named() {
        let raw = b"From: a@example.org\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Hello <b>there</b><img src=\"http://tracker.example/x.png\"></p>\r\n--b\r\n\
Content-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
        let t = readable_text(raw);
        assert!(t.contains("Subject: Grüße"), "{t}");
        assert!(t.contains("Hello there"), "{t}");
        assert!(!t.contains("<p>"), "{t}");
        assert!(t.contains("attachment x.pdf"), "{t}");
    }

    /// mail-parser 0.11.9 panics on this nesting (a forward inside a forward whose inner
    /// boundaries start with "--"): the detail pane shows the source instead.
    #[test]
    fn a_message_that_crashes_mail_parser_shows_its_source() {
        let raw = include_str!("../../tests/fixtures/mime/nested-forward.eml");
        let t = readable_text(raw.as_bytes());
        assert!(t.contains("Fwd: photos"), "{t}");
    }

    #[test]
    fn long_text_is_capped() {
        let mut raw = b"Subject: x\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'a', TEXT_CAP * 2));
        assert!(readable_text(&raw).len() < TEXT_CAP + 100);
        assert!(source_text(&raw).ends_with("not shown]"));
    }
}
