//! The IMAP mail store against a real Dovecot started by each test.

mod support;

use neversent::mailstore::imap::{Credentials, ImapConfig, ImapStore, Secret, Security};
use neversent::mailstore::roles::Found;
use neversent::mailstore::{MailStore, MoveMethod, RoleOverrides, StoreError};
use std::net::TcpListener;
use std::ops::ControlFlow;
use std::time::Duration;
use support::dovecot::{builder, message, Dovecot, Layout, PASSWORD, USER};

fn connect(d: &Dovecot, security: Security) -> ImapStore {
    match ImapStore::connect(&d.config(security)) {
        Ok(s) => s,
        Err(e) => panic!("connect ({security:?}) failed: {e}\n{}", d.log()),
    }
}

fn inbox_of(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            message(
                &format!("msg{i}@example.net"),
                "Ann <ann@example.net>",
                USER,
                &format!("Hello number {i}"),
                "Just a note.",
            )
        })
        .collect()
}

fn preload(n: usize) -> support::dovecot::Builder {
    let msgs = inbox_of(n);
    let mut b = builder();
    for m in &msgs {
        b = b.message("INBOX", m, "");
    }
    b
}

#[test]
fn connects_with_implicit_tls_starttls_and_loopback_plaintext() {
    let d = preload(3).start();
    for security in [Security::Implicit, Security::StartTls, Security::Plain] {
        let mut store = connect(&d, security);
        let status = store.examine("INBOX").expect("examine");
        assert_eq!(status.exists, 3, "{security:?}");
        assert!(status.uidvalidity > 0);
        store.logout().expect("logout");
    }
}

#[test]
fn plaintext_is_refused_unless_asked_for_and_to_loopback() {
    let d = builder().start();
    let mut cfg = d.config(Security::Plain);
    cfg.allow_plaintext = false;
    let err = ImapStore::connect(&cfg).err().expect("must refuse");
    assert!(matches!(err, StoreError::PlaintextRefused { .. }), "{err}");

    // A host that is not loopback is refused even when asked for (nothing is sent to it).
    let mut cfg = d.config(Security::Plain);
    cfg.host = "192.0.2.1".into();
    let err = ImapStore::connect(&cfg).err().expect("must refuse");
    assert!(matches!(err, StoreError::PlaintextRefused { .. }), "{err}");
    assert!(err.to_string().contains("192.0.2.1"));
}

#[test]
fn wrong_password_is_named() {
    let d = builder().start();
    let mut cfg = d.config(Security::Implicit);
    cfg.credentials = Credentials::Password(Secret::new("not the password"));
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    match &err {
        StoreError::WrongPassword { user, .. } => assert_eq!(user, USER),
        other => panic!("expected WrongPassword, got {other:?}"),
    }
    assert!(err.to_string().contains("refused the password"), "{err}");
    assert!(!format!("{err:?}").contains("not the password"), "the secret leaked into the error");
}

#[test]
fn a_server_that_disables_login_is_signed_in_with_authenticate_plain_or_login() {
    let d = preload(2).login_disabled().start();
    let mut store = connect(&d, Security::Implicit);
    assert_eq!(store.journal().first().map(String::as_str), Some("AUTHENTICATE PLAIN"));
    assert!(store.capabilities().all.contains("LOGINDISABLED"), "{:?}", store.capabilities());
    assert_eq!(store.examine("INBOX").expect("examine").exists, 2);
    store.logout().expect("logout");

    // A wrong password through AUTHENTICATE is named as one too.
    let mut cfg = d.config(Security::Implicit);
    cfg.credentials = Credentials::Password(Secret::new("not the password"));
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::WrongPassword { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains("not the password"), "the secret leaked into the error");

    // A server that allows LOGIN gets LOGIN.
    let d = preload(1).start();
    let store = connect(&d, Security::Implicit);
    assert_eq!(store.journal().first().map(String::as_str), Some("LOGIN"));

    // A server that disables LOGIN and offers only the SASL LOGIN mechanism: signed in with
    // AUTHENTICATE LOGIN; a wrong password is still named as one.
    let d = preload(1).login_disabled().auth_mechanisms("login").start();
    let mut store = connect(&d, Security::Implicit);
    assert_eq!(store.journal().first().map(String::as_str), Some("AUTHENTICATE LOGIN"));
    assert_eq!(store.examine("INBOX").expect("examine").exists, 1);
    let mut cfg = d.config(Security::Implicit);
    cfg.credentials = Credentials::Password(Secret::new("not the password"));
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::WrongPassword { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains("not the password"), "the secret leaked into the error");

    // One that offers neither (only CRAM-MD5 here): no way to sign in with a password, and the
    // error says why, without the password.
    let d = preload(1).login_disabled().auth_mechanisms("cram-md5").start();
    let err = ImapStore::connect(&d.config(Security::Implicit)).err().expect("must fail");
    assert!(matches!(err, StoreError::Server { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("LOGINDISABLED") && text.contains("AUTHENTICATE PLAIN"), "{text}");
    assert!(!format!("{err:?}").contains(PASSWORD), "the secret leaked into the error");
}

#[test]
fn host_not_found_is_named() {
    let mut cfg =
        ImapConfig::new("no-such-host.invalid", USER, Credentials::Password(Secret::new("x")));
    cfg.timeout = Duration::from_secs(5);
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert_eq!(err, StoreError::HostNotFound { host: "no-such-host.invalid".into() });
    assert!(err.to_string().contains("host not found"), "{err}");
}

#[test]
fn connection_refused_is_named() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut cfg = ImapConfig::new("127.0.0.1", USER, Credentials::Password(Secret::new("x")));
    cfg.port = port;
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert_eq!(err, StoreError::ConnectionRefused { host: "127.0.0.1".into(), port });
    assert!(err.to_string().contains(&format!("port {port}")), "{err}");
}

#[test]
fn a_silent_server_times_out() {
    // A misbehaving server: accepts the connection and never says anything.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let mut cfg = ImapConfig::new("127.0.0.1", USER, Credentials::Password(Secret::new("x")));
    cfg.port = port;
    cfg.timeout = Duration::from_millis(500);
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::Timeout { .. }), "{err:?}");
    holder.join().ok();
}

fn openssl_fingerprint(d: &Dovecot) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(d.cert_path())
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.trim().rsplit('=').next().expect("fingerprint").to_string()
}

#[test]
fn untrusted_certificate_shows_its_fingerprint() {
    let d = builder().start();
    let expected = openssl_fingerprint(&d);
    for security in [Security::Implicit, Security::StartTls] {
        let mut cfg = d.config(security);
        cfg.ca_cert = None; // only the system roots: the self-signed test cert is not among them
        let err = ImapStore::connect(&cfg).err().expect("must fail");
        match &err {
            StoreError::CertificateNotTrusted { host, fingerprint, .. } => {
                assert_eq!(host, "localhost");
                assert_eq!(fingerprint, &expected, "{security:?}");
            }
            other => panic!("expected CertificateNotTrusted, got {other:?}"),
        }
        assert!(err.to_string().contains(&expected));
    }
    // No login was attempted on the untrusted connections.
    assert!(!d.log().contains("Login: user="), "{}", d.log());
}

#[test]
fn a_certificate_the_user_trusted_by_fingerprint_is_accepted_and_a_changed_one_refused() {
    let d = preload(1).start();
    let fingerprint = openssl_fingerprint(&d);
    let mut cfg = d.config(Security::Implicit);
    cfg.ca_cert = None;
    cfg.trusted_fingerprint = Some(fingerprint.to_lowercase());
    let mut store = ImapStore::connect(&cfg).expect("pinned certificate accepted");
    assert_eq!(store.examine("INBOX").expect("examine").exists, 1);

    cfg.trusted_fingerprint = Some("00".repeat(32));
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::CertificateChanged { .. }), "{err:?}");
}

#[test]
fn a_server_without_starttls_is_refused_before_login() {
    let d = builder().without_tls().start();
    let err = ImapStore::connect(&d.config(Security::StartTls)).err().expect("must fail");
    assert_eq!(err, StoreError::NoStartTls { host: "localhost".into() });
    assert!(err.to_string().contains("STARTTLS"));
    assert!(!d.log().contains("Login: user="), "{}", d.log());
}

#[test]
fn xoauth2_with_a_token_command() {
    let d = preload(2).start();
    let mut cfg = d.config(Security::Implicit);
    // In the test server the token is checked like a password.
    cfg.credentials = Credentials::OAuth2Command(format!("printf '%s\\n' '{}'", PASSWORD));
    let mut store = ImapStore::connect(&cfg).expect("xoauth2 login");
    assert_eq!(store.examine("INBOX").expect("examine").exists, 2);
    assert!(d.log().contains("method=XOAUTH2"), "{}", d.log());

    cfg.credentials = Credentials::OAuth2Command("echo expired-token".into());
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::WrongPassword { .. }), "{err:?}");

    cfg.credentials = Credentials::OAuth2Command("exit 3".into());
    let err = ImapStore::connect(&cfg).err().expect("must fail");
    assert!(matches!(err, StoreError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("token command failed"), "{err}");
}

#[test]
fn folder_roles_for_every_layout() {
    for (layout, found) in [
        (Layout::Standard, Found::SpecialUse),
        (Layout::SentItemsNoSpecialUse, Found::WellKnownName),
        (Layout::German, Found::WellKnownName),
        (Layout::French, Found::WellKnownName),
        (Layout::InboxPrefixDot, Found::WellKnownName),
    ] {
        let d = builder().layout(layout).start();
        let mut store = connect(&d, Security::Implicit);
        let roles = store.roles(&RoleOverrides::default()).expect("roles");
        assert_eq!(
            roles.sent,
            Some((layout.sent(), found)),
            "{layout:?}: {:?}",
            store.list_folders()
        );
        assert_eq!(roles.trash, Some((layout.trash(), found)), "{layout:?}");
        // The Sent folder found is really there and readable.
        store.examine(roles.sent_name().expect("sent")).expect("examine sent");
        // The user's own choice wins.
        let overrides = RoleOverrides { sent: Some("INBOX".into()), ..Default::default() };
        let roles = store.roles(&overrides).expect("roles");
        assert_eq!(roles.sent, Some(("INBOX".to_string(), Found::UserChoice)));
    }
}

#[test]
fn scanning_leaves_seen_untouched() {
    let d = preload(5).start();
    let mut store = connect(&d, Security::Implicit);
    let (status, uids) = store.uids("INBOX").expect("uids");
    assert_eq!(uids.len(), 5);
    assert_eq!(status.exists, 5);
    let mut got = Vec::new();
    store
        .fetch_headers("INBOX", &uids, &["Message-ID", "Subject", "From"], &mut |batch| {
            got.extend(batch);
            ControlFlow::Continue(())
        })
        .expect("headers");
    assert_eq!(got.len(), 5);
    for r in &got {
        let text = String::from_utf8_lossy(&r.headers);
        assert!(text.contains("Subject: Hello number"), "{text}");
        assert!(!text.contains("Date:"), "only the asked fields: {text}");
        assert!(r.size > 100);
    }
    let bodies = store.fetch_bodies("INBOX", &uids, 40).expect("bodies");
    assert_eq!(bodies.len(), 5);
    assert!(bodies.iter().all(|b| b.truncated && b.raw.len() == 40));
    let bodies = store.fetch_bodies("INBOX", &uids[..1], 1 << 20).expect("bodies");
    assert!(!bodies[0].truncated);
    assert!(String::from_utf8_lossy(&bodies[0].raw).contains("Just a note."));
    store.logout().expect("logout");
    for (uid, _, flags) in d.contents("INBOX") {
        assert!(!flags.iter().any(|f| f.contains("Seen")), "uid {uid} got \\Seen: {flags:?}");
    }
    assert!(d.log().contains("body_count="), "dovecot logged the session");
}

fn move_two_of_five(d: &Dovecot) -> (ImapStore, neversent::mailstore::MoveReport, Vec<u32>) {
    let mut store = connect(d, Security::Implicit);
    let roles = store.roles(&RoleOverrides::default()).expect("roles");
    let trash = roles.trash_name().expect("trash").to_string();
    let (status, uids) = store.uids("INBOX").expect("uids");
    let contents = d.contents("INBOX");
    let pick: Vec<u32> = contents
        .iter()
        .filter(|(_, id, _)| id.contains("msg1@") || id.contains("msg3@"))
        .map(|(uid, _, _)| *uid)
        .collect();
    assert_eq!(pick.len(), 2);
    assert_eq!(uids.len(), 5);
    let report = store.move_messages("INBOX", status.uidvalidity, &pick, &trash).expect("move");
    (store, report, pick)
}

fn assert_moved(d: &Dovecot) {
    let trash = d.layout.trash();
    let inbox = d.message_ids("INBOX");
    assert!(inbox.iter().all(|id| !id.contains("msg1@") && !id.contains("msg3@")), "{inbox:?}");
    assert_eq!(inbox.len(), 3);
    let in_trash = d.message_ids(&trash);
    assert_eq!(in_trash, vec!["<msg1@example.net>", "<msg3@example.net>"]);
}

#[test]
fn move_uses_uid_move_when_offered() {
    let d = preload(5).start();
    let (store, report, pick) = move_two_of_five(&d);
    assert_eq!(report.method, MoveMethod::Move);
    assert_eq!(report.moved, pick);
    assert_eq!(report.uid_map.len(), 2, "COPYUID read from the MOVE response");
    assert!(store.journal().iter().any(|c| c == "UID MOVE"));
    assert_moved(&d);
}

#[test]
fn move_without_move_copies_flags_and_expunges_exactly_those_uids() {
    let d = preload(5).without_move().start();
    // Another client marked msg0 \Deleted and has not expunged it yet.
    let mut other = d.raw_session();
    other.select("INBOX").expect("select");
    let uid0 = d.contents("INBOX").iter().find(|(_, id, _)| id.contains("msg0@")).expect("msg0").0;
    other.uid_store(uid0.to_string(), "+FLAGS (\\Deleted)").expect("store");

    let (store, report, _pick) = move_two_of_five(&d);
    assert_eq!(report.method, MoveMethod::CopyStoreExpunge);
    assert!(!store.journal().iter().any(|c| c == "UID MOVE"), "{:?}", store.journal());
    assert!(store.journal().iter().any(|c| c == "UID EXPUNGE"));
    assert!(!store.journal().iter().any(|c| c == "EXPUNGE" || c == "CLOSE"));
    assert_eq!(report.uid_map.len(), 2);
    // msg0 was not ours to expunge: still there, still flagged.
    let inbox = d.contents("INBOX");
    assert!(inbox
        .iter()
        .any(|(_, id, f)| id.contains("msg0@") && f.iter().any(|x| x.contains("Deleted"))));
    let in_trash = d.message_ids(&d.layout.trash());
    assert_eq!(in_trash, vec!["<msg1@example.net>", "<msg3@example.net>"]);
    assert_eq!(inbox.len(), 3);
}

#[test]
fn move_without_uidplus_copies_and_flags_but_never_expunges() {
    let d = preload(5).without_uidplus().start();
    let mut other = d.raw_session();
    other.select("INBOX").expect("select");
    let uid0 = d.contents("INBOX").iter().find(|(_, id, _)| id.contains("msg0@")).expect("msg0").0;
    other.uid_store(uid0.to_string(), "+FLAGS (\\Deleted)").expect("store");

    let (mut store, report, pick) = move_two_of_five(&d);
    assert_eq!(report.method, MoveMethod::CopyAndFlag);
    assert_eq!(report.left_flagged, pick);
    assert!(
        !store.journal().iter().any(|c| c.contains("EXPUNGE") || c == "UID MOVE" || c == "CLOSE"),
        "{:?}",
        store.journal()
    );
    // Everything is still in the inbox, including the message another client marked deleted.
    let inbox = d.contents("INBOX");
    assert_eq!(inbox.len(), 5);
    assert!(inbox.iter().any(|(_, id, _)| id.contains("msg0@")));
    // Copies are safely in Trash.
    assert_eq!(d.message_ids(&d.layout.trash()), vec!["<msg1@example.net>", "<msg3@example.net>"]);

    // Running it again does not copy them a second time.
    let status = store.examine("INBOX").expect("examine");
    let again =
        store.move_messages("INBOX", status.uidvalidity, &pick, &d.layout.trash()).expect("again");
    assert!(again.moved.is_empty(), "{again:?}");
    assert_eq!(d.message_ids(&d.layout.trash()).len(), 2);
}

#[test]
fn move_refuses_when_uidvalidity_changed() {
    let d = preload(2).start();
    let mut store = connect(&d, Security::Implicit);
    let mut other = d.raw_session();
    other.create("Lists").expect("create");
    other
        .append("Lists", &message("l1@example.net", "a@example.net", USER, "x", "y"))
        .finish()
        .expect("append");
    let (status, uids) = store.uids("Lists").expect("uids");
    // Someone deletes and recreates the folder: same name, new UIDVALIDITY.
    other.delete("Lists").expect("delete");
    other.create("Lists").expect("create");
    other
        .append("Lists", &message("l2@example.net", "a@example.net", USER, "x", "y"))
        .finish()
        .expect("append");
    let err =
        store.move_messages("Lists", status.uidvalidity, &uids, "Trash").expect_err("must refuse");
    assert!(matches!(err, StoreError::UidValidityChanged { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing was changed"));
    assert_eq!(d.message_ids("Lists"), vec!["<l2@example.net>"]);
    assert!(d.message_ids("Trash").is_empty());
}

#[test]
fn moving_uids_that_are_gone_reports_them_missing() {
    let d = preload(2).start();
    let mut store = connect(&d, Security::Implicit);
    let (status, uids) = store.uids("INBOX").expect("uids");
    let report =
        store.move_messages("INBOX", status.uidvalidity, &[uids[0], 999], "Trash").expect("move");
    assert_eq!(report.moved, vec![uids[0]]);
    assert_eq!(report.missing, vec![999]);
    assert_eq!(d.message_ids("Trash").len(), 1);
}

#[test]
fn appended_mail_is_seen_by_a_new_listing() {
    let d = preload(1).start();
    let mut store = connect(&d, Security::StartTls);
    let (_, before) = store.uids("INBOX").expect("uids");
    d.append("INBOX", &message("late@example.net", "a@example.net", USER, "Late", "x"));
    let (_, after) = store.uids("INBOX").expect("uids");
    assert_eq!(before.len() + 1, after.len());
    assert!(after.iter().max() > before.iter().max());
}
