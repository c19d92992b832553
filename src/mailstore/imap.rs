//! The IMAP mail store: the `imap` crate over `native-tls`, with our own connection set-up so
//! that certificates, timeouts, STARTTLS and errors are handled the way a person needs.

use super::rawfetch::RawEvent;
use super::{
    uid_sets, BodyRecord, FolderInfo, FolderStatus, HeaderRecord, MailStore, MoveMethod,
    MoveReport, Role, Search, StoreError, StoreResult, Uid,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (usually port 993).
    Implicit,
    /// Plain connection upgraded with STARTTLS before anything secret is sent (usually 143).
    StartTls,
    /// No encryption: only to loopback, and only when asked for explicitly.
    Plain,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Implicit => 993,
            Security::StartTls | Security::Plain => 143,
        }
    }
}

/// A secret string that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How to log in.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// LOGIN with a password (or app password).
    Password(Secret),
    /// XOAUTH2 with an access token printed by a command the user chose (e.g. an OAuth helper).
    OAuth2Command(String),
    /// XOAUTH2 with an access token already at hand.
    OAuth2Token(Secret),
}

/// Everything needed to reach one IMAP account.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub credentials: Credentials,
    /// A certificate (PEM) to trust in addition to the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// The SHA-256 fingerprint of a certificate the user explicitly chose to trust.
    pub trusted_fingerprint: Option<String>,
    /// Must be true for `Security::Plain`, which is refused for anything but loopback anyway.
    pub allow_plaintext: bool,
    /// Connect and read timeout.
    pub timeout: Duration,
}

impl ImapConfig {
    pub fn new(host: &str, user: &str, credentials: Credentials) -> ImapConfig {
        ImapConfig {
            host: host.to_string(),
            port: 993,
            security: Security::Implicit,
            user: user.to_string(),
            credentials,
            ca_cert: None,
            trusted_fingerprint: None,
            allow_plaintext: false,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The transport under the IMAP session. Cloneable: the session owns one handle, and the
/// bulk fetches ([`super::rawfetch`]) use another, between the crate's commands.
#[derive(Clone)]
pub struct Stream(Arc<Mutex<Transport>>);

enum Transport {
    Plain(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Stream {
    fn plain(tcp: TcpStream) -> Stream {
        Stream(Arc::new(Mutex::new(Transport::Plain(tcp))))
    }
    fn tls(tls: native_tls::TlsStream<TcpStream>) -> Stream {
        Stream(Arc::new(Mutex::new(Transport::Tls(Box::new(tls)))))
    }
    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, Transport>> {
        self.0.lock().map_err(|_| io::Error::other("connection state poisoned"))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut *self.lock()? {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut *self.lock()? {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut *self.lock()? {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// The server's capabilities that change what we do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCaps {
    pub r#move: bool,
    pub uidplus: bool,
    pub special_use: bool,
    pub all: BTreeSet<String>,
}

/// A logged-in IMAP session.
pub struct ImapStore {
    session: imap::Session<Stream>,
    /// A second handle on the session's connection, for the pipelined bulk fetches.
    raw: Stream,
    /// Counter for the tags of our own commands.
    raw_tag: u32,
    caps: ServerCaps,
    label: String,
    /// The folder currently open and whether it was opened read-write (SELECT).
    selected: Option<(String, bool)>,
    /// The commands sent since login, by name only (no arguments): lets tests check that a
    /// command was never sent, and helps diagnose a failure.
    journal: Vec<String>,
    /// How many message bytes (header fields and bodies) were fetched.
    bytes_fetched: u64,
}

/// Formats a SHA-256 digest the way certificate viewers show it: "AB:CD:…".
pub fn fingerprint_of(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn normalize_fingerprint(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_hexdigit()).map(|c| c.to_ascii_uppercase()).collect()
}

fn map_io(e: &io::Error, host: &str, port: u16, what: &str) -> StoreError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            StoreError::ConnectionRefused { host: host.to_string(), port }
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            StoreError::Timeout { host: host.to_string(), port, what: what.to_string() }
        }
        _ => StoreError::ConnectionLost { detail: format!("{what}: {e}") },
    }
}

/// Turns an error of the imap crate into ours. `command` names what we were doing.
fn map_imap(e: imap::Error, command: &str) -> StoreError {
    match e {
        imap::Error::No(no) => StoreError::Server {
            command: command.to_string(),
            server_says: no.information.trim().to_string(),
        },
        imap::Error::Bad(bad) => StoreError::Server {
            command: command.to_string(),
            server_says: bad.information.trim().to_string(),
        },
        imap::Error::Bye(bye) => StoreError::ConnectionLost {
            detail: format!("the server closed the session: {}", bye.information.trim()),
        },
        imap::Error::Io(io) => match io.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => StoreError::ConnectionLost {
                detail: format!("no answer from the server in time during {command}"),
            },
            _ => StoreError::ConnectionLost { detail: format!("{command}: {io}") },
        },
        imap::Error::ConnectionLost => {
            StoreError::ConnectionLost { detail: format!("during {command}") }
        }
        other => StoreError::ConnectionLost {
            detail: format!("unexpected answer to {command}: {other}"),
        },
    }
}

fn tls_connector(cfg: &ImapConfig, insecure: bool) -> StoreResult<native_tls::TlsConnector> {
    let mut builder = native_tls::TlsConnector::builder();
    builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
    if let Some(path) = &cfg.ca_cert {
        let pem = std::fs::read(path).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            detail: format!("cannot read the certificate file ({e})"),
        })?;
        let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            detail: format!("not a PEM certificate ({e})"),
        })?;
        builder.add_root_certificate(cert);
    }
    if insecure {
        builder.danger_accept_invalid_certs(true);
        builder.danger_accept_invalid_hostnames(true);
    }
    builder.build().map_err(|e| StoreError::Tls { host: cfg.host.clone(), detail: e.to_string() })
}

fn resolve(cfg: &ImapConfig) -> StoreResult<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (cfg.host.as_str(), cfg.port)
        .to_socket_addrs()
        .map_err(|_| StoreError::HostNotFound { host: cfg.host.clone() })?
        .collect();
    if addrs.is_empty() {
        return Err(StoreError::HostNotFound { host: cfg.host.clone() });
    }
    Ok(addrs)
}

fn open_tcp(cfg: &ImapConfig, addrs: &[SocketAddr]) -> StoreResult<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, cfg.timeout) {
            Ok(tcp) => {
                let set = tcp
                    .set_read_timeout(Some(cfg.timeout))
                    .and_then(|_| tcp.set_write_timeout(Some(cfg.timeout)))
                    .and_then(|_| tcp.set_nodelay(true));
                if let Err(e) = set {
                    return Err(map_io(&e, &cfg.host, cfg.port, "setting up the connection"));
                }
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no address"));
    Err(map_io(&e, &cfg.host, cfg.port, "connecting"))
}

fn greeting_error(e: imap::Error, cfg: &ImapConfig) -> StoreError {
    match e {
        imap::Error::Io(io) => {
            map_io(&io, &cfg.host, cfg.port, "waiting for the server's greeting")
        }
        other => map_imap(other, "the greeting"),
    }
}

/// Connects and returns a client that has read the greeting, over TLS unless `Plain`.
/// `insecure` is used only to read the certificate of a server we do not trust (to show its
/// fingerprint) or to check a pinned fingerprint; no credentials are sent on such a connection
/// before the fingerprint is checked.
fn open_client(
    cfg: &ImapConfig,
    addrs: &[SocketAddr],
    insecure: bool,
) -> StoreResult<(imap::Client<Stream>, Stream, Option<String>)> {
    let tcp = open_tcp(cfg, addrs)?;
    let mut fingerprint = None;
    let mut handshake = |tcp: TcpStream| -> StoreResult<Stream> {
        let connector = tls_connector(cfg, insecure)?;
        match connector.connect(&cfg.host, tcp) {
            Ok(tls) => {
                fingerprint = tls
                    .peer_certificate()
                    .ok()
                    .flatten()
                    .and_then(|c| c.to_der().ok())
                    .map(|der| fingerprint_of(&der));
                Ok(Stream::tls(tls))
            }
            Err(native_tls::HandshakeError::Failure(e)) => {
                Err(StoreError::Tls { host: cfg.host.clone(), detail: e.to_string() })
            }
            Err(native_tls::HandshakeError::WouldBlock(_)) => Err(StoreError::Timeout {
                host: cfg.host.clone(),
                port: cfg.port,
                what: "the TLS handshake".into(),
            }),
        }
    };
    match cfg.security {
        Security::Implicit => {
            let stream = handshake(tcp)?;
            let mut client = imap::Client::new(stream.clone());
            client.read_greeting().map_err(|e| greeting_error(e, cfg))?;
            Ok((client, stream, fingerprint))
        }
        Security::StartTls => {
            let mut tcp = tcp;
            starttls_exchange(&mut tcp, cfg)?;
            let stream = handshake(tcp)?;
            let mut client = imap::Client::new(stream.clone());
            client.greeting_read = true;
            Ok((client, stream, fingerprint))
        }
        Security::Plain => {
            let stream = Stream::plain(tcp);
            let mut client = imap::Client::new(stream.clone());
            client.read_greeting().map_err(|e| greeting_error(e, cfg))?;
            Ok((client, stream, None))
        }
    }
}

/// SASL PLAIN (RFC 4616): no authorization identity, the user name and the password.
struct Plain<'a> {
    user: &'a str,
    password: &'a str,
}

impl imap::Authenticator for Plain<'_> {
    type Response = String;
    fn process(&self, _challenge: &[u8]) -> String {
        format!("\0{}\0{}", self.user, self.password)
    }
}

/// SASL LOGIN (draft-murchison-sasl-login), for servers that offer it but not PLAIN: the
/// server prompts for the user name, then for the password. Prompts are worded differently from
/// server to server, so a prompt that mentions a password gets the password, one that mentions a
/// user the user name, and any other the next in that order.
struct SaslLogin<'a> {
    user: &'a str,
    password: &'a str,
    prompts: std::cell::Cell<usize>,
}

impl imap::Authenticator for SaslLogin<'_> {
    type Response = String;
    fn process(&self, challenge: &[u8]) -> String {
        let n = self.prompts.get();
        self.prompts.set(n + 1);
        let prompt = String::from_utf8_lossy(challenge).to_ascii_lowercase();
        let password = if prompt.contains("pass") {
            true
        } else if prompt.contains("user") || prompt.contains("name") {
            false
        } else {
            n > 0
        };
        if password { self.password } else { self.user }.to_owned()
    }
}

struct XOAuth2<'a> {
    user: &'a str,
    token: &'a str,
}

impl imap::Authenticator for XOAuth2<'_> {
    type Response = String;
    fn process(&self, challenge: &[u8]) -> String {
        if challenge.is_empty() {
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
        } else {
            // A non-empty challenge is the server's error report (RFC 7628); answer with an
            // empty response so the server finishes with NO.
            String::new()
        }
    }
}

/// Runs the user's token command and returns what it printed (trimmed).
fn token_from_command(cmd: &str) -> StoreResult<Secret> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| StoreError::Config {
            detail: format!("cannot run the token command ({e})"),
        })?;
    if !out.status.success() {
        return Err(StoreError::Config {
            detail: format!(
                "the token command failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() {
        return Err(StoreError::Config { detail: "the token command printed nothing".into() });
    }
    Ok(Secret::new(token))
}

/// Reads one line (up to CRLF) byte by byte, so nothing after it is consumed: after STARTTLS
/// the next bytes belong to the TLS handshake.
fn read_line_raw(tcp: &mut TcpStream, cfg: &ImapConfig, what: &str) -> StoreResult<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tcp.read(&mut byte) {
            Ok(0) => {
                return Err(StoreError::ConnectionLost {
                    detail: format!("the server closed the connection during {what}"),
                })
            }
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
                if line.len() > 64 * 1024 {
                    return Err(StoreError::ConnectionLost {
                        detail: format!("the server sent an overlong line during {what}"),
                    });
                }
            }
            Err(e) => return Err(map_io(&e, &cfg.host, cfg.port, what)),
        }
    }
}

/// Greeting, CAPABILITY and STARTTLS on the plain connection, before any secret is sent.
fn starttls_exchange(tcp: &mut TcpStream, cfg: &ImapConfig) -> StoreResult<()> {
    let greeting = read_line_raw(tcp, cfg, "waiting for the server's greeting")?;
    if !greeting.starts_with("* OK") && !greeting.starts_with("* PREAUTH") {
        return Err(StoreError::ConnectionLost {
            detail: format!("unexpected greeting: {}", greeting.trim()),
        });
    }
    let mut offers_starttls = greeting.to_ascii_uppercase().contains("STARTTLS");
    if !offers_starttls {
        tcp.write_all(b"s0 CAPABILITY\r\n")
            .map_err(|e| map_io(&e, &cfg.host, cfg.port, "asking for capabilities"))?;
        loop {
            let line = read_line_raw(tcp, cfg, "reading capabilities")?;
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("* CAPABILITY")
                && upper.split_whitespace().any(|w| w == "STARTTLS")
            {
                offers_starttls = true;
            }
            if upper.starts_with("S0 ") {
                break;
            }
        }
    }
    if !offers_starttls {
        return Err(StoreError::NoStartTls { host: cfg.host.clone() });
    }
    tcp.write_all(b"s1 STARTTLS\r\n")
        .map_err(|e| map_io(&e, &cfg.host, cfg.port, "starting TLS"))?;
    loop {
        let line = read_line_raw(tcp, cfg, "starting TLS")?;
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("S1 OK") {
            return Ok(());
        }
        if upper.starts_with("S1 ") {
            return Err(StoreError::NoStartTls { host: cfg.host.clone() });
        }
    }
}

fn is_loopback_only(addrs: &[SocketAddr]) -> bool {
    addrs.iter().all(|a| a.ip().is_loopback())
}

impl ImapStore {
    /// Connects, verifies the server, logs in and reads the capabilities.
    pub fn connect(cfg: &ImapConfig) -> StoreResult<ImapStore> {
        let addrs = resolve(cfg)?;
        if cfg.security == Security::Plain && !(cfg.allow_plaintext && is_loopback_only(&addrs)) {
            return Err(StoreError::PlaintextRefused { host: cfg.host.clone() });
        }
        let (mut client, raw) = match (&cfg.trusted_fingerprint, cfg.security) {
            (Some(pinned), Security::Implicit | Security::StartTls) => {
                let (client, raw, found) = open_client(cfg, &addrs, true)?;
                let found = found.unwrap_or_default();
                if normalize_fingerprint(&found) != normalize_fingerprint(pinned) {
                    return Err(StoreError::CertificateChanged {
                        host: cfg.host.clone(),
                        expected: pinned.clone(),
                        found,
                    });
                }
                (client, raw)
            }
            _ => match open_client(cfg, &addrs, false) {
                Ok((c, raw, _)) => (c, raw),
                Err(StoreError::Tls { detail, .. }) => {
                    // Find out whether the problem is trust: if an unverified handshake works,
                    // show the certificate's fingerprint so the person can decide.
                    match open_client(cfg, &addrs, true).ok().and_then(|(_, _, f)| f) {
                        Some(fingerprint) => {
                            return Err(StoreError::CertificateNotTrusted {
                                host: cfg.host.clone(),
                                fingerprint,
                                detail,
                            })
                        }
                        None => return Err(StoreError::Tls { host: cfg.host.clone(), detail }),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let mut login_command = "LOGIN";
        let login_result = match &cfg.credentials {
            Credentials::Password(pw) => {
                // A server that advertises LOGINDISABLED refuses the LOGIN command (RFC 3501
                // 6.2.3); the same name and password then go through AUTHENTICATE PLAIN (RFC 4616)
                // or, if the server offers only that, AUTHENTICATE LOGIN.
                let caps = client.capabilities().map_err(|e| map_imap(e, "CAPABILITY"))?;
                if caps.has_str("LOGINDISABLED") {
                    if caps.has_str("AUTH=PLAIN") {
                        login_command = "AUTHENTICATE PLAIN";
                        let plain = Plain { user: &cfg.user, password: pw.expose() };
                        client.authenticate("PLAIN", &plain)
                    } else if caps.has_str("AUTH=LOGIN") {
                        login_command = "AUTHENTICATE LOGIN";
                        let login = SaslLogin {
                            user: &cfg.user,
                            password: pw.expose(),
                            prompts: std::cell::Cell::new(0),
                        };
                        client.authenticate("LOGIN", &login)
                    } else {
                        return Err(StoreError::Server {
                            command: "LOGIN".into(),
                            server_says: "the server refuses LOGIN (LOGINDISABLED) and offers \
                                          neither AUTHENTICATE PLAIN nor AUTHENTICATE LOGIN to \
                                          sign in with a password"
                                .into(),
                        });
                    }
                } else {
                    client.login(&cfg.user, pw.expose())
                }
            }
            Credentials::OAuth2Token(token) => {
                client.authenticate("XOAUTH2", &XOAuth2 { user: &cfg.user, token: token.expose() })
            }
            Credentials::OAuth2Command(cmd) => {
                let token = token_from_command(cmd)?;
                client.authenticate("XOAUTH2", &XOAuth2 { user: &cfg.user, token: token.expose() })
            }
        };
        let mut session = match login_result {
            Ok(s) => s,
            Err((imap::Error::No(no), _)) => {
                return Err(StoreError::WrongPassword {
                    user: cfg.user.clone(),
                    server_says: no.information.trim().to_string(),
                })
            }
            Err((e, _)) => return Err(map_imap(e, "login")),
        };
        let caps = session.capabilities().map_err(|e| map_imap(e, "CAPABILITY"))?;
        let all: BTreeSet<String> = caps
            .iter()
            .map(|c| match c {
                imap_proto::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                imap_proto::Capability::Auth(a) => format!("AUTH={a}"),
                imap_proto::Capability::Atom(a) => a.to_string(),
            })
            .collect();
        let server_caps = ServerCaps {
            r#move: caps.has_str("MOVE"),
            uidplus: caps.has_str("UIDPLUS"),
            special_use: caps.has_str("SPECIAL-USE"),
            all,
        };
        Ok(ImapStore {
            session,
            raw,
            raw_tag: 0,
            caps: server_caps,
            label: format!("{} on {}", cfg.user, cfg.host),
            selected: None,
            journal: vec![login_command.into(), "CAPABILITY".into()],
            bytes_fetched: 0,
        })
    }

    pub fn capabilities(&self) -> &ServerCaps {
        &self.caps
    }

    /// The names of the commands sent since login, in order.
    pub fn journal(&self) -> &[String] {
        &self.journal
    }

    /// Message bytes fetched so far (header fields and bodies).
    pub fn bytes_fetched(&self) -> u64 {
        self.bytes_fetched
    }

    /// Logs out politely (never CLOSE, which would expunge).
    pub fn logout(mut self) -> StoreResult<()> {
        self.journal.push("LOGOUT".into());
        self.session.logout().map_err(|e| map_imap(e, "LOGOUT"))
    }

    fn open(&mut self, folder: &str, read_write: bool) -> StoreResult<FolderStatus> {
        let cmd = if read_write { "SELECT" } else { "EXAMINE" };
        self.journal.push(cmd.into());
        self.selected = None;
        let mailbox =
            if read_write { self.session.select(folder) } else { self.session.examine(folder) }
                .map_err(|e| match e {
                    imap::Error::No(_) => StoreError::NoSuchFolder { folder: folder.to_string() },
                    other => map_imap(other, cmd),
                })?;
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| StoreError::Server {
            command: cmd.into(),
            server_says: format!("no UIDVALIDITY for {folder}; the server does not support UIDs"),
        })?;
        self.selected = Some((folder.to_string(), read_write));
        Ok(FolderStatus { uidvalidity, exists: mailbox.exists, uid_next: mailbox.uid_next })
    }

    fn ensure_open(&mut self, folder: &str) -> StoreResult<()> {
        match &self.selected {
            Some((name, _)) if name == folder => Ok(()),
            _ => self.open(folder, false).map(|_| ()),
        }
    }

    /// Pipelined `UID FETCH` of `sets` on the session's connection (see `rawfetch`).
    fn bulk_fetch(
        &mut self,
        sets: &[String],
        items: &str,
        on_event: &mut dyn FnMut(super::rawfetch::RawEvent) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        if sets.is_empty() {
            return Ok(());
        }
        self.raw_tag += 1;
        let prefix = format!("ns{}x", self.raw_tag);
        for _ in sets {
            self.journal.push("UID FETCH".into());
        }
        super::rawfetch::pipelined_fetch(&mut self.raw, &prefix, sets, items, 3, on_event).map_err(
            |e| match e {
                super::rawfetch::RawError::Refused(m) => {
                    StoreError::Server { command: "UID FETCH".into(), server_says: m }
                }
                super::rawfetch::RawError::Io(m) | super::rawfetch::RawError::Protocol(m) => {
                    self.selected = None;
                    StoreError::ConnectionLost { detail: format!("UID FETCH: {m}") }
                }
            },
        )
    }

    /// Runs a raw command and returns its whole response text (for COPYUID codes).
    fn run_raw(&mut self, command: &str, name: &str) -> StoreResult<String> {
        self.journal.push(name.into());
        let (data, _) = self.session.run(command).map_err(|e| map_imap(e, name))?;
        Ok(String::from_utf8_lossy(&data).into_owned())
    }

    /// UID COPY to `to` (quoted), then mark the originals \Deleted; returns the COPYUID pairs.
    fn copy_and_flag(&mut self, set: &str, to: &str) -> StoreResult<Vec<(Uid, Uid)>> {
        let resp = self.run_raw(&format!("UID COPY {set} {to}"), "UID COPY")?;
        self.run_raw(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"), "UID STORE")?;
        Ok(parse_copyuid(&resp))
    }

    /// Returns the UIDs among `uids` that exist in the open folder, and those with \Deleted.
    fn existing(&mut self, uids: &[Uid]) -> StoreResult<(Vec<Uid>, HashSet<Uid>)> {
        let mut existing = Vec::new();
        let mut deleted = HashSet::new();
        for set in uid_sets(uids, 500) {
            self.journal.push("UID FETCH".into());
            let fetches = self
                .session
                .uid_fetch(&set, "(UID FLAGS)")
                .map_err(|e| map_imap(e, "UID FETCH"))?;
            for f in fetches.iter() {
                if let Some(uid) = f.uid {
                    existing.push(uid);
                    if f.flags().iter().any(|fl| matches!(fl, imap::types::Flag::Deleted)) {
                        deleted.insert(uid);
                    }
                }
            }
        }
        existing.sort_unstable();
        existing.dedup();
        Ok((existing, deleted))
    }
}

/// Reads `COPYUID <validity> <src set> <dst set>` response codes out of a response.
fn parse_copyuid(response: &str) -> Vec<(Uid, Uid)> {
    let mut pairs = Vec::new();
    let upper = response.to_ascii_uppercase();
    let mut from = 0;
    while let Some(pos) = upper[from..].find("[COPYUID ") {
        let start = from + pos + "[COPYUID ".len();
        let end = upper[start..].find(']').map(|e| start + e).unwrap_or(upper.len());
        let parts: Vec<&str> = response[start..end].split_whitespace().collect();
        if parts.len() == 3 {
            let src = expand_set(parts[1]);
            let dst = expand_set(parts[2]);
            if src.len() == dst.len() {
                pairs.extend(src.into_iter().zip(dst));
            }
        }
        from = end;
    }
    pairs
}

fn expand_set(set: &str) -> Vec<Uid> {
    let mut out = Vec::new();
    for part in set.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<Uid>(), b.parse::<Uid>()) {
                    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                    // A response code cannot name more UIDs than we asked to copy; bound it.
                    if hi - lo > 1_000_000 {
                        return Vec::new();
                    }
                    out.extend(lo..=hi);
                }
            }
            None => {
                if let Ok(u) = part.parse() {
                    out.push(u);
                }
            }
        }
    }
    out
}

fn special_use_of(attrs: &[imap_proto::NameAttribute<'_>]) -> Option<Role> {
    use imap_proto::NameAttribute as A;
    attrs.iter().find_map(|a| match a {
        A::Sent => Some(Role::Sent),
        A::Trash => Some(Role::Trash),
        A::Drafts => Some(Role::Drafts),
        A::Junk => Some(Role::Junk),
        A::Archive => Some(Role::Archive),
        A::All => Some(Role::All),
        A::Extension(e) => match e.to_ascii_lowercase().as_str() {
            "\\sent" => Some(Role::Sent),
            "\\trash" => Some(Role::Trash),
            "\\drafts" => Some(Role::Drafts),
            "\\junk" => Some(Role::Junk),
            _ => None,
        },
        _ => None,
    })
}

fn check_field_names(fields: &[&str]) -> StoreResult<()> {
    for f in fields {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::Config { detail: format!("not a header field name: {f:?}") });
        }
    }
    Ok(())
}

impl MailStore for ImapStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn search(&mut self, folder: &str, query: &Search) -> StoreResult<Vec<Uid>> {
        let criteria = match query {
            Search::MessageId(id) => {
                let Some(v) = imap_string(&format!("<{id}>")) else { return Ok(Vec::new()) };
                format!("HEADER Message-ID {v}")
            }
            Search::Recipient(addr) => {
                let Some(v) = imap_string(addr) else { return Ok(Vec::new()) };
                format!("OR OR TO {v} CC {v} BCC {v}")
            }
        };
        self.ensure_open(folder)?;
        self.journal.push("UID SEARCH".into());
        let found = self.session.uid_search(&criteria).map_err(|e| map_imap(e, "UID SEARCH"))?;
        let mut uids: Vec<Uid> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    fn list_folders(&mut self) -> StoreResult<Vec<FolderInfo>> {
        self.journal.push("LIST".into());
        let names = self.session.list(Some(""), Some("*")).map_err(|e| map_imap(e, "LIST"))?;
        Ok(names
            .iter()
            .map(|n| FolderInfo {
                name: n.name().to_string(),
                display_name: super::utf7::decode(n.name()),
                delimiter: n.delimiter().map(str::to_string),
                special_use: special_use_of(n.attributes()),
                selectable: !n
                    .attributes()
                    .iter()
                    .any(|a| matches!(a, imap_proto::NameAttribute::NoSelect)),
            })
            .collect())
    }

    fn examine(&mut self, folder: &str) -> StoreResult<FolderStatus> {
        self.open(folder, false)
    }

    fn uids(&mut self, folder: &str) -> StoreResult<(FolderStatus, Vec<Uid>)> {
        let status = self.open(folder, false)?;
        if status.exists == 0 {
            return Ok((status, Vec::new()));
        }
        self.journal.push("UID SEARCH".into());
        let mut uids: Vec<Uid> = if self.caps.all.contains("ESEARCH") {
            // RFC 4731: the answer comes as compact ranges ("1:100000"), not 100,000 numbers.
            self.raw_tag += 1;
            let tag = format!("ns{}s", self.raw_tag);
            let responses =
                super::rawfetch::command(&mut self.raw, &tag, "UID SEARCH RETURN (ALL) ALL")
                    .map_err(|e| StoreError::ConnectionLost {
                        detail: format!("UID SEARCH: {e:?}"),
                    })?;
            let mut out = Vec::new();
            for r in responses {
                if let Some(found) = super::rawfetch::parse_esearch_all(&r) {
                    out.extend(found);
                }
            }
            out
        } else {
            self.session
                .uid_search("ALL")
                .map_err(|e| map_imap(e, "UID SEARCH"))?
                .into_iter()
                .collect()
        };
        uids.sort_unstable();
        uids.dedup();
        Ok((status, uids))
    }

    fn fetch_headers(
        &mut self,
        folder: &str,
        uids: &[Uid],
        fields: &[&str],
        on_batch: &mut dyn FnMut(Vec<HeaderRecord>) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        check_field_names(fields)?;
        self.ensure_open(folder)?;
        let query = format!("(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])", fields.join(" "));
        let sets = uid_sets(uids, 2000);
        let mut batch: Vec<HeaderRecord> = Vec::new();
        let mut bytes = 0u64;
        self.bulk_fetch(&sets, &query, &mut |event| match event {
            RawEvent::Fetch(f) => {
                if let Some(uid) = f.uid {
                    let headers = f.section.unwrap_or_default();
                    bytes += headers.len() as u64;
                    batch.push(HeaderRecord { uid, size: f.size.unwrap_or(0), headers });
                }
                ControlFlow::Continue(())
            }
            RawEvent::Done(_) => {
                let mut full = std::mem::take(&mut batch);
                full.sort_by_key(|r| r.uid);
                on_batch(full)
            }
        })?;
        self.bytes_fetched += bytes;
        Ok(())
    }

    fn fetch_bodies(
        &mut self,
        folder: &str,
        uids: &[Uid],
        max_bytes: u32,
    ) -> StoreResult<Vec<BodyRecord>> {
        self.ensure_open(folder)?;
        let query = format!("(UID RFC822.SIZE BODY.PEEK[]<0.{}>)", max_bytes.max(1));
        let mut out = Vec::with_capacity(uids.len());
        let sets = uid_sets(uids, 100);
        self.bulk_fetch(&sets, &query, &mut |event| {
            if let RawEvent::Fetch(f) = event {
                if let Some(uid) = f.uid {
                    let raw = f.section.unwrap_or_default();
                    let size = f.size.unwrap_or(raw.len() as u32);
                    out.push(BodyRecord { uid, size, truncated: size as usize > raw.len(), raw });
                }
            }
            ControlFlow::Continue(())
        })?;
        self.bytes_fetched += out.iter().map(|b| b.raw.len() as u64).sum::<u64>();
        out.sort_by_key(|r| r.uid);
        Ok(out)
    }

    fn move_messages(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uids: &[Uid],
        trash: &str,
    ) -> StoreResult<MoveReport> {
        super::check_distinct(folder, trash)?;
        let status = self.open(folder, true)?;
        if status.uidvalidity != uidvalidity {
            self.selected = None;
            return Err(StoreError::UidValidityChanged {
                folder: folder.to_string(),
                expected: uidvalidity,
                found: status.uidvalidity,
            });
        }
        let (existing, already_deleted) = self.existing(uids)?;
        let wanted: HashSet<Uid> = uids.iter().copied().collect();
        let mut missing: Vec<Uid> =
            wanted.difference(&existing.iter().copied().collect()).copied().collect();
        missing.sort_unstable();
        let mut report = MoveReport {
            method: if self.caps.r#move {
                MoveMethod::Move
            } else if self.caps.uidplus {
                MoveMethod::CopyStoreExpunge
            } else {
                MoveMethod::CopyAndFlag
            },
            to: trash.to_string(),
            moved: Vec::new(),
            missing,
            uid_map: Vec::new(),
            left_flagged: Vec::new(),
        };
        let quoted_trash = quote(trash);
        match report.method {
            MoveMethod::Move => {
                for (set, chunk) in chunked(&existing, 500) {
                    let resp =
                        self.run_raw(&format!("UID MOVE {set} {quoted_trash}"), "UID MOVE")?;
                    report.uid_map.extend(parse_copyuid(&resp));
                    report.moved.extend(chunk);
                }
            }
            MoveMethod::CopyStoreExpunge => {
                for (set, chunk) in chunked(&existing, 500) {
                    report.uid_map.extend(self.copy_and_flag(&set, &quoted_trash)?);
                    self.journal.push("UID EXPUNGE".into());
                    self.session.uid_expunge(&set).map_err(|e| map_imap(e, "UID EXPUNGE"))?;
                    report.moved.extend(chunk);
                }
            }
            MoveMethod::CopyAndFlag => {
                // Messages that already carry \Deleted were copied by an earlier run (or are
                // on their way out by another client's choice): copying them again would only
                // duplicate them in Trash.
                let to_copy: Vec<Uid> =
                    existing.iter().copied().filter(|u| !already_deleted.contains(u)).collect();
                for (set, chunk) in chunked(&to_copy, 500) {
                    report.uid_map.extend(self.copy_and_flag(&set, &quoted_trash)?);
                    report.moved.extend(chunk);
                }
                report.left_flagged = existing;
            }
        }
        Ok(report)
    }
}

/// An IMAP quoted string; None for values that cannot be sent safely (line breaks, NUL).
fn imap_string(value: &str) -> Option<String> {
    if value.is_empty()
        || value.len() > 998
        || value.chars().any(|c| c == '\r' || c == '\n' || c == '\0')
    {
        return None;
    }
    Some(quote(value))
}

fn chunked(uids: &[Uid], n: usize) -> Vec<(String, Vec<Uid>)> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.chunks(n).map(|c| (uid_sets(c, c.len()).concat(), c.to_vec())).collect()
}

/// Quotes a mailbox name for a raw command.
fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copyuid_is_read_from_responses() {
        let resp = "* OK [COPYUID 1700 4:6,9 101:104] Moved UIDs.\r\n* 3 EXPUNGE\r\nA5 OK Move completed.\r\n";
        assert_eq!(parse_copyuid(resp), vec![(4, 101), (5, 102), (6, 103), (9, 104)]);
        assert!(parse_copyuid("A1 OK done\r\n").is_empty());
        assert!(parse_copyuid("* OK [COPYUID 1 1:2 5] odd").is_empty());
    }

    #[test]
    fn fingerprints_look_like_viewers_show_them() {
        let f = fingerprint_of(b"abc");
        assert!(f.starts_with("BA:78:16:BF:"), "{f}");
        assert_eq!(
            normalize_fingerprint(&f),
            normalize_fingerprint(&f.to_lowercase().replace(':', ""))
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = Credentials::Password(Secret::new("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn names_are_quoted() {
        assert_eq!(quote(r#"Odd "name"\x"#), r#""Odd \"name\"\\x""#);
    }
}
