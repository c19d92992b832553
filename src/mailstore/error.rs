use std::fmt;

/// Something went wrong talking to a mailbox, said so a person can act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The server refused the user name / password (or token).
    WrongPassword { user: String, server_says: String },
    /// The host name does not resolve.
    HostNotFound { host: String },
    /// Nothing listens on that port.
    ConnectionRefused { host: String, port: u16 },
    /// No answer in time.
    Timeout { host: String, port: u16, what: String },
    /// The server's certificate is not trusted; `fingerprint` is its SHA-256, so the person can
    /// compare it and choose to trust it.
    CertificateNotTrusted { host: String, fingerprint: String, detail: String },
    /// The certificate is not the one the user chose to trust.
    CertificateChanged { host: String, expected: String, found: String },
    /// The server does not offer STARTTLS, and we never send a password in the clear.
    NoStartTls { host: String },
    /// Plaintext was asked for a host that is not loopback, or without the explicit request.
    PlaintextRefused { host: String },
    /// A TLS problem other than trust.
    Tls { host: String, detail: String },
    /// The folder does not exist.
    NoSuchFolder { folder: String },
    /// The folder was recreated since it was scanned: its UIDs now mean other messages.
    UidValidityChanged { folder: String, expected: u32, found: u32 },
    /// The server said NO or BAD to a command.
    Server { command: String, server_says: String },
    /// The connection broke.
    ConnectionLost { detail: String },
    /// A local file problem (Maildir).
    Io { path: String, detail: String },
    /// The account settings are wrong (e.g. a token command that fails).
    Config { detail: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::WrongPassword { user, server_says } => write!(
                f,
                "the server refused the password for {user} (it said: {server_says}); check the password — many providers require an app password for IMAP"
            ),
            StoreError::HostNotFound { host } => {
                write!(f, "host not found: check the server name {host}")
            }
            StoreError::ConnectionRefused { host, port } => write!(
                f,
                "connection refused: nothing accepts IMAP connections on port {port} of {host}; check the port and security setting"
            ),
            StoreError::Timeout { host, port, what } => {
                write!(f, "no answer in time while {what}: {host} port {port}")
            }
            StoreError::CertificateNotTrusted { host, fingerprint, detail } => write!(
                f,
                "the server's certificate is not trusted ({detail}); compare its SHA-256 fingerprint with your provider's before trusting it: {fingerprint} for host {host}"
            ),
            StoreError::CertificateChanged { host, expected, found } => write!(
                f,
                "the server's certificate changed since you trusted it (expected SHA-256 {expected}, got {found}): refusing to connect to {host}"
            ),
            StoreError::NoStartTls { host } => write!(
                f,
                "the server does not offer STARTTLS, so the password cannot be sent safely; use implicit TLS (usually port 993): {host}"
            ),
            StoreError::PlaintextRefused { host } => write!(
                f,
                "an unencrypted connection is allowed only to this computer (loopback) and only when asked for explicitly: {host}"
            ),
            StoreError::Tls { host, detail } => {
                write!(f, "the secure connection failed ({detail}): {host}")
            }
            StoreError::NoSuchFolder { folder } => write!(f, "no such folder: {folder}"),
            StoreError::UidValidityChanged { folder, expected, found } => write!(
                f,
                "the folder was rebuilt since it was scanned (UIDVALIDITY {expected} is now {found}), so its message numbers no longer mean the same messages; nothing was changed — scan again: {folder}"
            ),
            StoreError::Server { command, server_says } => {
                write!(f, "the server refused {command}: {server_says}")
            }
            StoreError::ConnectionLost { detail } => {
                write!(f, "the connection to the server was lost: {detail}")
            }
            StoreError::Io { path, detail } => write!(f, "{detail}: {path}"),
            StoreError::Config { detail } => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for StoreError {}
