//! A private Dovecot for one test: its own temporary directory, free loopback ports for
//! implicit TLS and STARTTLS, a self-signed certificate made at start, one user, and the
//! folders of the chosen layout. Stopped and removed when dropped, also when the test fails.

#![allow(dead_code)]

use neversent::mailstore::imap::{Credentials, ImapConfig, Secret, Security};
use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const USER: &str = "alex@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

/// How the server names and marks its folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// "Sent", "Trash", "Drafts", "Junk" with SPECIAL-USE, "/" separator.
    Standard,
    /// Exchange-style "Sent Items", "Deleted Items" without SPECIAL-USE.
    SentItemsNoSpecialUse,
    /// German names without SPECIAL-USE: "Gesendet", "Papierkorb".
    German,
    /// French names that need modified UTF-7: "Envoyés", "Corbeille".
    French,
    /// Courier-style: "." separator and an "INBOX." prefix: "INBOX.Sent", "INBOX.Trash".
    InboxPrefixDot,
}

impl Layout {
    /// (folder name as shown to people, without prefix; special use for the config)
    fn folders(self) -> Vec<(&'static str, Option<&'static str>)> {
        match self {
            Layout::Standard => vec![
                ("Sent", Some("\\Sent")),
                ("Trash", Some("\\Trash")),
                ("Drafts", Some("\\Drafts")),
                ("Junk", Some("\\Junk")),
            ],
            Layout::SentItemsNoSpecialUse => vec![
                ("Sent Items", None),
                ("Deleted Items", None),
                ("Drafts", None),
                ("Junk E-mail", None),
            ],
            Layout::German => vec![("Gesendet", None), ("Papierkorb", None), ("Entwürfe", None)],
            Layout::French => vec![("Envoyés", None), ("Corbeille", None), ("Brouillons", None)],
            Layout::InboxPrefixDot => vec![("Sent", None), ("Trash", None), ("Drafts", None)],
        }
    }

    fn separator(self) -> &'static str {
        if self == Layout::InboxPrefixDot {
            "."
        } else {
            "/"
        }
    }

    fn prefix(self) -> &'static str {
        if self == Layout::InboxPrefixDot {
            "INBOX."
        } else {
            ""
        }
    }

    /// The name of the Sent folder as people see it.
    pub fn sent_shown(self) -> &'static str {
        self.folders()[0].0
    }

    /// The name of the Sent folder as the server spells it in commands.
    pub fn sent(self) -> String {
        self.wire_name(self.folders()[0].0)
    }

    /// The name of the Trash folder as the server spells it in commands.
    pub fn trash(self) -> String {
        self.wire_name(self.folders()[1].0)
    }

    fn wire_name(self, name: &str) -> String {
        format!("{}{}", self.prefix(), neversent::mailstore::utf7::encode(name))
    }
}

/// What to start.
pub struct Builder {
    layout: Layout,
    no_tls: bool,
    no_move: bool,
    no_uidplus: bool,
    login_disabled: bool,
    auth_mechanisms: &'static str,
    messages: Vec<(String, Vec<u8>, String)>,
}

pub fn builder() -> Builder {
    Builder {
        layout: Layout::Standard,
        no_tls: false,
        no_move: false,
        no_uidplus: false,
        login_disabled: false,
        auth_mechanisms: "plain login xoauth2",
        messages: Vec::new(),
    }
}

impl Builder {
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }
    /// A server without TLS at all: no STARTTLS, no implicit-TLS port.
    pub fn without_tls(mut self) -> Self {
        self.no_tls = true;
        self
    }
    /// The server does not advertise MOVE.
    pub fn without_move(mut self) -> Self {
        self.no_move = true;
        self
    }
    /// The server does not advertise UIDPLUS (nor MOVE, which implies it in practice).
    pub fn without_uidplus(mut self) -> Self {
        self.no_uidplus = true;
        self.no_move = true;
        self
    }
    /// The server advertises LOGINDISABLED: clients must sign in with AUTHENTICATE.
    pub fn login_disabled(mut self) -> Self {
        self.login_disabled = true;
        self
    }
    /// The SASL mechanisms the server offers (Dovecot's `auth_mechanisms`; by default "plain
    /// login xoauth2").
    pub fn auth_mechanisms(mut self, mechanisms: &'static str) -> Self {
        self.auth_mechanisms = mechanisms;
        self
    }
    /// A message written as a Maildir file before the server starts. `folder` is "INBOX" or a
    /// folder name as shown to people ("Sent", "Gesendet"); `flags` are Maildir letters ("S").
    pub fn message(mut self, folder: &str, raw: &[u8], flags: &str) -> Self {
        self.messages.push((folder.to_string(), raw.to_vec(), flags.to_string()));
        self
    }
    pub fn messages<'a>(mut self, folder: &str, raws: impl IntoIterator<Item = &'a [u8]>) -> Self {
        for raw in raws {
            self.messages.push((folder.to_string(), raw.to_vec(), String::new()));
        }
        self
    }

    pub fn start(self) -> Dovecot {
        let binary = find_dovecot();
        let mut last_log = String::new();
        for _attempt in 0..3 {
            match Dovecot::try_start(&binary, &self) {
                Ok(d) => return d,
                Err(log) => last_log = log,
            }
        }
        panic!("Dovecot did not start; its log:\n{last_log}");
    }
}

fn find_dovecot() -> PathBuf {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.push("/usr/local/sbin".into());
    for d in dirs {
        let candidate = d.join("dovecot");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "Dovecot is not installed, and the integration tests need a real IMAP server.\n\
         Install it with:  sudo apt-get install -y dovecot-imapd   (or run scripts/test, which does)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A running private Dovecot.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub imaps_port: u16,
    pub imap_port: u16,
    pub layout: Layout,
    child: Child,
}

impl Dovecot {
    fn try_start(binary: &Path, b: &Builder) -> Result<Dovecot, String> {
        let dir = tempfile::Builder::new()
            .prefix("neversent-dovecot-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path().to_path_buf();
        // Dovecot's auth process runs as another user and needs to reach these files.
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        for sub in ["run", "state", "mail"] {
            fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        make_certificate(&d)?;
        fs::write(d.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n"))
            .map_err(|e| e.to_string())?;

        let imap_port = free_port();
        let imaps_port = free_port();
        let layout = b.layout;
        let mut mailboxes = String::new();
        for (name, special) in layout.folders() {
            mailboxes.push_str(&format!(
                "  mailbox \"{name}\" {{\n    auto = subscribe\n{}  }}\n",
                special.map(|s| format!("    special_use = {s}\n")).unwrap_or_default()
            ));
        }
        let capability = if b.no_move || b.no_uidplus {
            let mut caps = vec![
                "IMAP4rev1",
                "SASL-IR",
                "LOGIN-REFERRALS",
                "ID",
                "ENABLE",
                "IDLE",
                "SORT",
                "THREAD=REFERENCES",
                "MULTIAPPEND",
                "UNSELECT",
                "CHILDREN",
                "NAMESPACE",
                "LIST-EXTENDED",
                "I18NLEVEL=1",
                "CONDSTORE",
                "QRESYNC",
                "ESEARCH",
                "SEARCHRES",
                "WITHIN",
                "LIST-STATUS",
                "BINARY",
                "SPECIAL-USE",
                "LITERAL+",
            ];
            if !b.no_uidplus {
                caps.push("UIDPLUS");
            }
            if !b.no_move {
                caps.push("MOVE");
            }
            if b.login_disabled {
                caps.push("LOGINDISABLED");
            }
            format!("imap_capability = {}\n", caps.join(" "))
        } else if b.login_disabled {
            "imap_capability = +LOGINDISABLED\n".to_string()
        } else {
            String::new()
        };
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let conf = format!(
            r#"instance_name = neversent-test-{pid}-{n}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
{capability}namespace inbox {{
  inbox = yes
  separator = {sep}
  prefix = {prefix}
{mailboxes}}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_listen}
    ssl = yes
  }}
}}
"#,
            pid = std::process::id(),
            ssl = if b.no_tls { "no" } else { "yes" },
            imaps_listen = if b.no_tls { 0 } else { imaps_port },
            d = d.display(),
            sep = layout.separator(),
            prefix = layout.prefix(),
            mechanisms = b.auth_mechanisms,
        );
        fs::write(d.join("dovecot.conf"), conf).map_err(|e| e.to_string())?;

        // Write the folders and messages as Maildir files: much faster than APPEND.
        let maildir = d.join("mail").join(USER).join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(maildir.join(sub)).map_err(|e| e.to_string())?;
        }
        for (name, _) in layout.folders() {
            for sub in ["cur", "new", "tmp"] {
                fs::create_dir_all(maildir.join(folder_dir_name(name)).join(sub))
                    .map_err(|e| e.to_string())?;
            }
        }
        for (i, (folder, raw, flags)) in b.messages.iter().enumerate() {
            let dir = if folder.eq_ignore_ascii_case("INBOX") {
                maildir.clone()
            } else {
                maildir.join(folder_dir_name(folder))
            };
            fs::create_dir_all(dir.join("cur")).map_err(|e| e.to_string())?;
            fs::create_dir_all(dir.join("new")).map_err(|e| e.to_string())?;
            fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
            let name = format!("{}.M{:06}P1.neversent-test:2,{}", 1_700_000_000 + i, i, flags);
            fs::write(dir.join("cur").join(name), raw).map_err(|e| e.to_string())?;
        }
        let status = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(d.join("mail"))
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !status.success() {
            return Err("chown of the mail directory failed (the tests run as root)".into());
        }

        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let mut dovecot = Dovecot { dir, imaps_port, imap_port, layout, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = dovecot.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("dovecot exited ({status}): {err}\n{}", dovecot.log()));
            }
            let up = (b.no_tls || TcpStream::connect(("127.0.0.1", imaps_port)).is_ok())
                && TcpStream::connect(("127.0.0.1", imap_port)).is_ok();
            if up {
                return Ok(dovecot);
            }
            if Instant::now() > deadline {
                return Err(format!("dovecot did not listen within 15 s\n{}", dovecot.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The Maildir directory of a folder ("INBOX" or a shown name).
    pub fn maildir(&self, folder: &str) -> PathBuf {
        let root = self.dir.path().join("mail").join(USER).join("Maildir");
        if folder.eq_ignore_ascii_case("INBOX") {
            root
        } else {
            root.join(folder_dir_name(folder))
        }
    }

    /// Settings for the store under test: implicit TLS, trusting this server's certificate.
    pub fn config(&self, security: Security) -> ImapConfig {
        let mut cfg =
            ImapConfig::new("localhost", USER, Credentials::Password(Secret::new(PASSWORD)));
        cfg.security = security;
        cfg.port = match security {
            Security::Implicit => self.imaps_port,
            Security::StartTls | Security::Plain => self.imap_port,
        };
        cfg.ca_cert = Some(self.cert_path());
        cfg.allow_plaintext = security == Security::Plain;
        cfg.timeout = Duration::from_secs(10);
        cfg
    }

    /// A bare TLS connection to the implicit-TLS port, trusting this server's certificate.
    pub fn tls_stream(&self) -> native_tls::TlsStream<TcpStream> {
        let pem = fs::read(self.cert_path()).expect("certificate");
        let tls = native_tls::TlsConnector::builder()
            .add_root_certificate(native_tls::Certificate::from_pem(&pem).expect("pem"))
            .build()
            .expect("tls");
        let tcp = TcpStream::connect(("127.0.0.1", self.imaps_port)).expect("connect");
        tls.connect("localhost", tcp).expect("tls handshake")
    }

    /// A plain imap-crate session (not the store under test) for setting up and checking.
    pub fn raw_session(&self) -> imap::Session<native_tls::TlsStream<TcpStream>> {
        let stream = self.tls_stream();
        let mut client = imap::Client::new(stream);
        client.read_greeting().expect("greeting");
        client.login(USER, PASSWORD).map_err(|(e, _)| e).expect("login")
    }

    /// APPENDs a message over IMAP (slower than preloading; for mail that arrives later).
    pub fn append(&self, folder: &str, raw: &[u8]) {
        let mut s = self.raw_session();
        s.append(folder, raw).finish().expect("append");
        s.logout().ok();
    }

    /// (UID, flags) of every message in a folder, by Message-ID, read with EXAMINE/BODY.PEEK.
    pub fn contents(&self, folder: &str) -> Vec<(u32, String, Vec<String>)> {
        let mut s = self.raw_session();
        s.examine(folder).expect("examine");
        let fetches =
            s.uid_fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])").expect("fetch");
        let mut out: Vec<(u32, String, Vec<String>)> = fetches
            .iter()
            .filter_map(|f| {
                let id = String::from_utf8_lossy(f.header().unwrap_or_default())
                    .trim()
                    .trim_start_matches("Message-ID:")
                    .trim_start_matches("Message-Id:")
                    .trim()
                    .to_string();
                let flags = f.flags().iter().map(|fl| format!("{fl:?}")).collect();
                f.uid.map(|u| (u, id, flags))
            })
            .collect();
        out.sort();
        s.logout().ok();
        out
    }

    /// The Message-IDs in a folder, sorted.
    pub fn message_ids(&self, folder: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.contents(folder).into_iter().map(|(_, id, _)| id).collect();
        ids.sort();
        ids
    }
}

/// Maildir++ directory of a folder: "." + the modified-UTF-7 name, hierarchy joined with ".".
fn folder_dir_name(name: &str) -> String {
    format!(".{}", neversent::mailstore::utf7::encode(name).replace('/', "."))
}

fn make_certificate(d: &Path) -> Result<(), String> {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .output()
        .map_err(|e| {
            format!("cannot run openssl ({e}); install it with: sudo apt-get install -y openssl")
        })?;
    if !out.status.success() {
        return Err(format!("openssl failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; then make sure.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small RFC 5322 message for tests.
pub fn message(message_id: &str, from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let mut m = Vec::new();
    write!(
        m,
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 03 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .expect("write to vec");
    m
}
