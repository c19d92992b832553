use super::*;

const POSTFIX: &str = "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.org (Mail Delivery System)\nTo: me@example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-Id: <own-bounce-id@mx.example.org>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n\n<nobody@Example.NET>: host mx.example.net said: 550 5.1.1 User unknown\n\n--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; nobody@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--BB\nContent-Type: message/rfc822\n\nMessage-ID: <orig-1@example.com>\nFrom: Me <me@example.com>\nTo: nobody@example.net\nSubject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=\nDate: Mon, 2 Jan 2023 10:00:00 +0100\nReceived: from a by b; Mon, 2 Jan 2023 10:00:00 +0100\n\nhi\n--BB--\n";

#[test]
fn standard_dsn_all_line_endings() {
    for (name, data) in [
        ("lf", POSTFIX.to_string()),
        ("crlf", POSTFIX.replace('\n', "\r\n")),
        ("cr", POSTFIX.replace('\n', "\r")),
        ("crcrlf", POSTFIX.replace('\n', "\r\r\n")),
    ] {
        let a = analyze(data.as_bytes());
        assert_eq!(a.kind, Kind::DeliveryFailure, "{name}");
        assert_eq!(a.original.message_id.as_deref(), Some("orig-1@example.com"), "{name}");
        assert_eq!(a.original.subject.as_deref(), Some("Hello wörld"), "{name}");
        assert_eq!(a.original.recipients, vec!["nobody@example.net".to_string()], "{name}");
        assert_eq!(a.status.as_deref(), Some("5.1.1"), "{name}");
        assert_eq!(a.reporting_mta.as_deref(), Some("mx.example.org"), "{name}");
        assert_eq!(a.original.date.as_deref(), Some("2023-01-02T10:00:00+01:00"), "{name}");
        assert_eq!(a.original.received.len(), 1, "{name}");
        assert!(headers_suggest_bounce(data.as_bytes()), "{name}");
    }
}

#[test]
fn base64_attached_original() {
    let orig =
        "Message-ID: <b64-orig@example.com>\r\nSubject: x\r\nTo: a@example.net\r\n\r\nbody\r\n";
    let b64 = base64(orig.as_bytes());
    let m = format!("From: Mail Delivery System <MAILER-DAEMON@x.example>\r\nSubject: Mail delivery failed\r\nMessage-ID: <own@x>\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n--ZZ\r\nContent-Type: text/plain\r\n\r\nThis message could not be delivered.\r\n--ZZ\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--ZZ--\r\n", b64);
    let a = analyze(m.as_bytes());
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_eq!(a.original.message_id.as_deref(), Some("b64-orig@example.com"));
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn quoted_printable_text_and_quoted_headers() {
    let m = "From: postmaster@example.org\nSubject: failure notice\nMessage-ID: <own@example.org>\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nHi. This is the qmail-send program at example.org.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<bad@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <me@example.com>\nMessage-ID: <qp-orig@example.com>\nSubject: caf=E9\nTo: bad@example.net\n\nbody\n";
    let a = analyze(m.as_bytes());
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_eq!(a.original.message_id.as_deref(), Some("qp-orig@example.com"));
    assert_eq!(a.original.recipients, vec!["bad@example.net".to_string()]);
    assert_eq!(a.status.as_deref(), Some("5.1.1"));
}

#[test]
fn own_message_id_never_reported() {
    let m = "From: MAILER-DAEMON@x.example\nSubject: Undeliverable\nMessage-ID: <self@x.example>\nIn-Reply-To: <self@x.example>\n\nYour message could not be delivered.\nMessage-ID: <self@x.example>\n";
    let a = analyze(m.as_bytes());
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_ne!(a.original.message_id.as_deref(), Some("self@x.example"));
}

#[test]
fn mdn_is_not_bounce() {
    let m = "From: a@example.com\nSubject: Read: hello\nContent-Type: multipart/report; report-type=disposition-notification; boundary=X\n\n--X\nContent-Type: text/plain\n\nYour message was read.\n--X\nContent-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; a@example.com\nDisposition: manual-action/MDN-sent-manually; displayed\n--X--\n";
    assert_eq!(analyze(m.as_bytes()).kind, Kind::NotBounce);
}

#[test]
fn arf_and_autoreply_and_plain() {
    let arf = "From: fbl@isp.example\nSubject: complaint\nContent-Type: multipart/report; report-type=feedback-report; boundary=X\n\n--X\nContent-Type: text/plain\n\nabuse report\n--X\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nOriginal-Rcpt-To: user@isp.example\n--X\nContent-Type: message/rfc822\n\nMessage-ID: <spam-1@example.com>\nSubject: buy\n\nx\n--X--\n";
    let a = analyze(arf.as_bytes());
    assert_eq!(a.kind, Kind::FeedbackReport);
    assert_eq!(a.original.message_id.as_deref(), Some("spam-1@example.com"));
    let ar = "From: Bob <bob@example.net>\nSubject: Out of Office: hello\nAuto-Submitted: auto-replied\nIn-Reply-To: <my-msg@example.com>\nMessage-ID: <ar@example.net>\n\nI am out of the office until Monday.\n";
    let a = analyze(ar.as_bytes());
    assert_eq!(a.kind, Kind::AutoReply);
    assert_eq!(a.original.message_id.as_deref(), Some("my-msg@example.com"));
    let plain = "From: Alice <alice@example.com>\nTo: bob@example.net\nSubject: Lunch?\nMessage-ID: <x@y>\n\nShall we have lunch on Friday?\n";
    assert_eq!(analyze(plain.as_bytes()).kind, Kind::NotBounce);
    assert!(!headers_suggest_bounce(plain.as_bytes()));
}

#[test]
fn x_failed_recipients_exim() {
    let m = "From: Mail Delivery System <Mailer-Daemon@mx.example>\nX-Failed-Recipients: Gone@Example.NET\nAuto-Submitted: auto-replied\nSubject: Mail delivery failed: returning message to sender\n\nThis message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  gone@example.net\n    SMTP error from remote mail server after RCPT TO:<gone@example.net>:\n    host mx.example.net [192.0.2.1]: 550 5.1.1 unknown user\n\n------ This is a copy of the message, including all the headers. ------\n\nReturn-path: <me@example.com>\nMessage-Id: <exim-orig@example.com>\nSubject: hi\n\nbody\n";
    let a = analyze(m.as_bytes());
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_eq!(a.original.recipients, vec!["Gone@example.net".to_string()]);
    assert_eq!(a.original.message_id.as_deref(), Some("exim-orig@example.com"));
    assert_eq!(a.status.as_deref(), Some("5.1.1"));
}

#[test]
fn garbage_never_panics() {
    let samples: Vec<Vec<u8>> = vec![
        vec![],
        b"\r".to_vec(),
        b"\n\n\n".to_vec(),
        b":".to_vec(),
        b"From: MAILER-DAEMON\nContent-Type: multipart/report; boundary=\"".to_vec(),
        b"From: MAILER-DAEMON\nContent-Type: multipart/report; report-type=delivery-status; boundary=a\n\n--a\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\nAction: failed\nStatus: 5.".to_vec(),
        (0..=255u8).collect(),
        "Subject: =?utf-8?B?////?=\nFrom: \u{fffd}@\u{1F600}\n\n\u{1F600}@\u{1F600}.\u{1F600} 5.1.1 550".as_bytes().to_vec(),
        [&b"From: postmaster@x.y\nSubject: Undeliverable\n\n"[..], &vec![b'@'; 100_000][..]].concat(),
        [&b"From: postmaster@x.y\nSubject: Undeliverable\n\n"[..], &"é>".repeat(50_000).into_bytes()[..]].concat(),
    ];
    for s in &samples {
        let _ = analyze(s);
        let _ = headers_suggest_bounce(s);
        for cut in [1usize, 7, 33, 100, 1000] {
            if cut < s.len() {
                let _ = analyze(&s[..cut]);
            }
        }
    }
    // truncations of a real bounce at every position
    let b = POSTFIX.as_bytes();
    for i in 0..b.len() {
        let _ = analyze(&b[..i]);
        let _ = headers_suggest_bounce(&b[..i]);
    }
}

#[test]
fn charset_iso_2022_jp_and_latin1() {
    let m = b"From: MAILER-DAEMON@x.example\nSubject: Returned mail\nContent-Type: text/plain; charset=iso-8859-1\n\nZustellung fehlgeschlagen f\xfcr <a@b.example>: 550 5.1.1 unbekannt\n";
    let a = analyze(m);
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_eq!(a.original.recipients, vec!["a@b.example".to_string()]);
}

#[test]
fn kind_names() {
    for k in Kind::ALL {
        let j = serde_json::to_string(&k).expect("json");
        assert_eq!(j, format!("\"{}\"", kind_name(&k)));
        assert_eq!(k.to_string(), kind_name(&k));
    }
}

#[test]
fn cat_debug_is_format_debug() {
    for s in [
        "",
        "user unknown",
        "doesn't exist",
        "verzögert",
        "a\"b",
        "a\\b",
        "tab\there",
        "\u{7f}",
        "\u{301}x",
        "日本",
        "~ !",
    ] {
        assert_eq!(super::cat_debug("x (", s, ")"), format!("x ({:?})", s));
    }
    assert_eq!(super::cat(&["a", "", "bc"]), "abc");
}

#[test]
fn a_text_part_loses_its_byte_order_mark() {
    let text = "\u{feff}{\"notificationType\":\"Bounce\"}\r\n";
    for (cte, body) in [("8bit", text.to_string()), ("base64", base64(text.as_bytes()))] {
        for charset in ["utf-8", "us-ascii", "iso-8859-1"] {
            let m = format!("From: a@example.org\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{body}\r\n");
            let (_, leaves) = mime::walk(m.as_bytes()).expect("message");
            let t = leaves[0].text();
            assert!(t.starts_with("{\"notif"), "{cte} {charset}: {t:?}");
        }
    }
}

#[test]
fn white_space_before_a_colon_in_the_originals_header() {
    // obsolete syntax (RFC 5322 4.5.3), read like "Name:" as mail-parser reads it
    let h = headers::from_header_block(
        b"Date : Wed, 12 Feb 2025 09:13:55 +0100\r\nSubject \t: Invoice\r\n overdue\r\nMessage-ID : <x.1@example.org>\r\nTo  : b@example.net\r\n\r\n",
    );
    assert_eq!(h.subject.as_deref(), Some("Invoice overdue"));
    assert_eq!(h.message_id.as_deref(), Some("x.1@example.org"));
    assert!(h.date_raw.is_some());
    assert_eq!(h.to.len(), 1);
}

#[test]
fn a_line_break_tag_and_the_sources_line_break_are_one_break() {
    assert_eq!(
        text::html_to_text("a: 1<br>\nb: 2<br/>\r\nc: 3<BR >\rd<p>\ne</p>\n\nf", 1000),
        "a: 1\nb: 2\nc: 3\nd\ne\n\nf"
    );
    // a line break not after a tag stays
    assert_eq!(text::html_to_text("<b>x</b>\ny\n\nz", 1000), "x\ny\n\nz");
}

#[test]
fn bare_cr_lines_around_an_lf_original() {
    // the bounce's own lines end in bare CRs, the attached original (long)
    // keeps the LFs it was written with
    let (own, orig) = POSTFIX.split_at(POSTFIX.find("Message-ID: <orig-1").expect("original"));
    let m = format!(
        "{}{}{}--BB--\n",
        own.replace('\n', "\r"),
        orig.replace("hi\n--BB--\n", ""),
        "body line\n".repeat(400)
    );
    let a = analyze(m.as_bytes());
    assert_eq!(a.kind, Kind::DeliveryFailure);
    assert_eq!(a.original.message_id.as_deref(), Some("orig-1@example.com"));
    assert_eq!(a.original.recipients, vec!["nobody@example.net".to_string()]);
}

#[test]
fn encoded_words_splitting_a_character_are_joined() {
    // "ニャーン" in UTF-8 split after its fourth byte, then a Q word
    let raw =
        "=?UTF-8?B?44OL4w==?=\r\n =?utf-8?b?g6Pjg7zjg7M=?= =?UTF-8?Q?_caf=C3?= =?UTF-8?Q?=A9?= x";
    let decoded = "ニ\u{FFFD}\u{FFFD}ーン caf\u{FFFD}\u{FFFD} x";
    assert_eq!(text::mend_split_words(decoded, raw).as_deref(), Some("ニャーン café x"));
    // nothing to mend
    assert_eq!(text::mend_split_words("fine", "=?UTF-8?Q?fine?="), None);
    // two charsets are not joined; literal text between words is kept
    let raw = "Re: =?UTF-8?B?w6k=?= and =?ISO-8859-1?Q?=E9?= \u{FFFD}";
    assert_eq!(text::mend_split_words("x\u{FFFD}", raw), None);
    let raw = "Re: =?UTF-8?B?w6k=?= and =?ISO-8859-1?Q?=E9?=";
    assert_eq!(text::mend_split_words("x\u{FFFD}", raw).as_deref(), Some("Re: é and é"));
    let h =
        headers::from_header_block(b"Subject: =?UTF-8?B?44OL4w==?= =?UTF-8?B?g6Pjg7zjg7M=?=\n\n");
    assert_eq!(h.subject.as_deref(), Some("ニャーン"));
}

#[test]
fn utf7_text_is_decoded() {
    assert_eq!(
        text::decode_utf7(b"john+-tag@example.net caf+AOk- +ZeVnLIqe-. x + y"),
        "john+tag@example.net café 日本語. x + y"
    );
    assert_eq!(text::decode_utf7(b"+2D3eAA- a+AOk"), "\u{1F600} aé");
    let m = "From: postmaster@ex.example.net\r\nContent-Type: text/plain; charset=unicode-1-1-utf-7\r\n\r\njohn+-tag@example.net\r\n";
    let (_, leaves) = mime::walk(m.as_bytes()).expect("message");
    assert_eq!(leaves[0].text().trim_end(), "john+tag@example.net");
}

#[test]
fn a_stray_cr_at_the_start_is_not_a_line_ending_style() {
    for m in
        [format!("\r{POSTFIX}"), POSTFIX.replacen("Return-Path: <>\n", "Return-Path: <>\r\r\n", 1)]
    {
        let a = analyze(m.as_bytes());
        assert_eq!(a.kind, Kind::DeliveryFailure, "{m:?}");
        assert_eq!(a.original.message_id.as_deref(), Some("orig-1@example.com"), "{m:?}");
    }
}

#[test]
fn contains_any_is_the_substring_search() {
    // haystacks built from pieces of the needles, their neighbours and noise
    let mut pieces: Vec<String> = vec![" ".into(), "x".into(), "-".into(), "é".into(), "".into()];
    for n in DAEMON_NAMES.iter().chain(GATEWAY_NAMES) {
        pieces.push(n.to_string());
        pieces.push(n.get(..n.len() / 2).unwrap_or("").to_string());
        pieces.push(n.get(n.len() / 2..).unwrap_or("").to_string());
        pieces.push(n.get(1..).unwrap_or("").to_string());
    }
    let mut next = super::xorshift(0xA409_3822_299F_31D0);
    for _ in 0..20_000 {
        let mut hay = String::new();
        for _ in 0..next() % 5 {
            hay.push_str(&pieces[(next() % pieces.len() as u64) as usize]);
        }
        for set in [&DAEMON_NEEDLES, &GATEWAY_NEEDLES] {
            let expected = set.list.iter().any(|n| hay.contains(n));
            assert_eq!(contains_any(&hay, set), expected, "{hay:?}");
        }
    }
}

#[test]
fn an_originals_raw_8bit_subject_is_read_in_its_charset() {
    let bounce = |charset: &str, subject: &[u8]| {
        let mut m = b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\nSubject: ".to_vec();
        m.extend_from_slice(subject);
        m.extend_from_slice(b"\r\nMessage-ID: <1@example.org>\r\n");
        m.extend_from_slice(charset.as_bytes());
        m.extend_from_slice(b"\r\nhi\r\n--B--\r\n");
        analyze(&m).original.subject
    };
    let latin1 = b"R\xe9sum\xe9 for the caf\xe9";
    for ct in
        ["Content-Type: text/plain; charset=iso-8859-1\r\n", "Content-Type: text/plain\r\n", ""]
    {
        assert_eq!(bounce(ct, latin1).as_deref(), Some("Résumé for the café"), "{ct:?}");
    }
    // the declared charset wins over Windows-1252
    let koi8 = b"\xf0\xd2\xc9\xd7\xc5\xd4";
    assert_eq!(
        bounce("Content-Type: text/plain; charset=koi8-r\r\n", koi8).as_deref(),
        Some("Привет")
    );
    // UTF-8 stays UTF-8; encoded words are decoded as before
    assert_eq!(bounce("", "Résumé".as_bytes()).as_deref(), Some("Résumé"));
    assert_eq!(bounce("", b"=?ISO-8859-1?Q?R=E9sum=E9?=").as_deref(), Some("Résumé"));
}

#[test]
fn an_automatic_reply_subject_needs_the_form_responders_give_it() {
    let mail = |subject: &str, extra: &str, body: &str| {
        let m = format!("From: Kim Park <kim.park@example.org>\r\nTo: a@example.net\r\nSubject: {subject}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
        analyze(m.as_bytes()).kind
    };
    let away = "I will be out of the office until 6 August and will reply on my return.";
    // responders: the phrase ends the subject or comes before a colon, or the mail answers one
    for subject in [
        "Out of Office: Quarterly figures",
        "Automatic reply: Quarterly figures",
        "Kim Park/Sales/Example is out of the office.",
        "自动回复：季度数据",
    ] {
        assert_eq!(mail(subject, "", away), Kind::AutoReply, "{subject}");
    }
    assert_eq!(mail("Vacation notice", "In-Reply-To: <q3@example.net>\r\n", away), Kind::AutoReply);
    // a header says so: any subject
    assert_eq!(mail("Vacation plans", "Auto-Submitted: auto-replied\r\n", away), Kind::AutoReply);
    // people writing about their holidays
    for subject in ["Vacation plans for August", "Out of office party on Friday", "下周出差安排"]
    {
        assert_eq!(mail(subject, "", away), Kind::NotBounce, "{subject}");
    }
}
