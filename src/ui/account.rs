//! The account screen: provider presets, the form, its checks, and what a connection test
//! found (including an untrusted certificate's fingerprint and the choice to trust it).

use super::worker::{Login, Target};
use crate::config::AccountSettings;
use crate::mailstore::imap::{Credentials, ImapConfig, Secret, Security};
use crate::mailstore::StoreError;
use egui::{Color32, RichText, Ui};

/// Mail providers with known settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Gmail,
    Outlook,
    Yahoo,
    ICloud,
    Fastmail,
    Other,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Gmail,
        Provider::Outlook,
        Provider::Yahoo,
        Provider::ICloud,
        Provider::Fastmail,
        Provider::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Gmail => "Gmail",
            Provider::Outlook => "Outlook / Microsoft 365",
            Provider::Yahoo => "Yahoo",
            Provider::ICloud => "iCloud",
            Provider::Fastmail => "Fastmail",
            Provider::Other => "Other",
        }
    }

    /// Server, port, security.
    pub fn server(self) -> Option<(&'static str, u16, Security)> {
        match self {
            Provider::Gmail => Some(("imap.gmail.com", 993, Security::Implicit)),
            Provider::Outlook => Some(("outlook.office365.com", 993, Security::Implicit)),
            Provider::Yahoo => Some(("imap.mail.yahoo.com", 993, Security::Implicit)),
            Provider::ICloud => Some(("imap.mail.me.com", 993, Security::Implicit)),
            Provider::Fastmail => Some(("imap.fastmail.com", 993, Security::Implicit)),
            Provider::Other => None,
        }
    }

    /// How to sign in there, and where to get an app password.
    pub fn hint(self) -> (&'static str, Option<&'static str>) {
        match self {
            Provider::Gmail => (
                "Gmail needs an app password, not your normal password. 2-Step Verification must be on; then create an app password and paste it here.",
                Some("https://myaccount.google.com/apppasswords"),
            ),
            Provider::Outlook => (
                "Microsoft has turned off password sign-in (basic authentication) for IMAP. Choose \"OAuth token command\": a command that prints an OAuth2 access token (for example from oama or mutt_oauth2.py). NeverSent signs in with it (XOAUTH2).",
                None,
            ),
            Provider::Yahoo => (
                "Yahoo needs an app password: on your Yahoo account's security page choose \"Generate app password\" and paste it here.",
                Some("https://login.yahoo.com/account/security"),
            ),
            Provider::ICloud => (
                "iCloud Mail needs an app-specific password: sign in to your Apple Account, open Sign-In and Security, App-Specific Passwords. Your user name is your iCloud email address.",
                Some("https://account.apple.com"),
            ),
            Provider::Fastmail => (
                "Fastmail needs an app password: create one in Fastmail's settings (Privacy & Security) with IMAP access, and paste it here.",
                None,
            ),
            Provider::Other => (
                "Use the IMAP server your provider documents. Port 993 with TLS is usual; 143 with STARTTLS also works.",
                None,
            ),
        }
    }

    fn for_host(host: &str) -> Provider {
        Provider::ALL
            .into_iter()
            .find(|p| p.server().is_some_and(|(h, _, _)| h.eq_ignore_ascii_case(host)))
            .unwrap_or(Provider::Other)
    }
}

/// How the account signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Password,
    OAuthCommand,
}

/// The fields a check can complain about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Host,
    Port,
    User,
    Password,
    Command,
}

/// What the last connection attempt said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Idle,
    Testing,
    Connecting,
    Works { sent: Option<String>, trash: Option<String> },
    Failed(StoreError),
    NeedPassword(String),
}

/// The account form.
#[derive(Debug, Clone)]
pub struct AccountForm {
    /// A local Maildir folder to open instead of an account.
    pub maildir: String,
    pub maildir_error: Option<String>,
    pub provider: Provider,
    pub name: String,
    pub user: String,
    pub host: String,
    pub port: String,
    pub security: Security,
    pub auth: Auth,
    pub password: String,
    pub command: String,
    pub remember: bool,
    pub trusted_fingerprint: Option<String>,
    /// Which saved account this edits, if any.
    pub editing: Option<usize>,
    /// The saved account's other settings (folder overrides, CA file) kept as they were.
    base: AccountSettings,
    pub errors: Vec<(Field, String)>,
    pub status: Status,
}

impl Default for AccountForm {
    fn default() -> Self {
        let mut f = AccountForm {
            maildir: String::new(),
            maildir_error: None,
            provider: Provider::Other,
            name: String::new(),
            user: String::new(),
            host: String::new(),
            port: "993".into(),
            security: Security::Implicit,
            auth: Auth::Password,
            password: String::new(),
            command: String::new(),
            remember: true,
            trusted_fingerprint: None,
            editing: None,
            base: AccountSettings::default(),
            errors: Vec::new(),
            status: Status::Idle,
        };
        f.apply_provider(Provider::Gmail);
        f
    }
}

/// What the user asked for on this screen.
pub enum AccountAction {
    Test(Target),
    Connect {
        target: Target,
        account: Box<AccountSettings>,
    },
    Forget(usize),
    Edit(usize),
    New,
    /// Scan a local Maildir folder instead of an IMAP account.
    OpenMaildir(std::path::PathBuf),
}

impl AccountForm {
    /// A form filled from a saved account.
    pub fn from_saved(a: &AccountSettings, index: usize) -> AccountForm {
        AccountForm {
            maildir: String::new(),
            maildir_error: None,
            provider: Provider::for_host(&a.host),
            name: a.name.clone(),
            user: a.user.clone(),
            host: a.host.clone(),
            port: a.port.to_string(),
            security: a.security,
            auth: if a.oauth2_command.is_some() { Auth::OAuthCommand } else { Auth::Password },
            password: String::new(),
            command: a.oauth2_command.clone().unwrap_or_default(),
            remember: a.remember,
            trusted_fingerprint: a.trusted_fingerprint.clone(),
            editing: Some(index),
            base: a.clone(),
            errors: Vec::new(),
            status: Status::Idle,
        }
    }

    pub fn apply_provider(&mut self, p: Provider) {
        self.provider = p;
        match p.server() {
            Some((host, port, security)) => {
                self.host = host.into();
                self.port = port.to_string();
                self.security = security;
            }
            None => {
                // Leaving a preset: its server is not the user's.
                if Provider::for_host(&self.host) != Provider::Other {
                    self.host.clear();
                }
            }
        }
        self.auth = if p == Provider::Outlook { Auth::OAuthCommand } else { Auth::Password };
    }

    fn error(&self, field: Field) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// Checks the form; on success the account settings (no secret) and how to log in.
    pub fn validate(&mut self) -> Option<(AccountSettings, Login)> {
        self.errors.clear();
        let host = self.host.trim().to_string();
        if host.is_empty() {
            self.errors.push((
                Field::Host,
                "Enter the IMAP server name (for example imap.example.org).".into(),
            ));
        } else if host.contains(char::is_whitespace) || host.contains('/') || host.contains('@') {
            self.errors.push((
                Field::Host,
                "The server name has no spaces, slashes or @ (for example imap.example.org)."
                    .into(),
            ));
        }
        let port = match self.port.trim().parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.errors.push((
                    Field::Port,
                    "The port is a number from 1 to 65535 (usually 993).".into(),
                ));
                None
            }
        };
        let user = self.user.trim().to_string();
        if user.is_empty() {
            self.errors.push((
                Field::User,
                "Enter your user name (usually your full email address).".into(),
            ));
        }
        let login = match self.auth {
            Auth::OAuthCommand => {
                if self.command.trim().is_empty() {
                    self.errors.push((
                        Field::Command,
                        "Enter the command that prints an OAuth2 access token.".into(),
                    ));
                }
                Login::OAuth2Command(self.command.trim().to_string())
            }
            Auth::Password => {
                if !self.password.is_empty() {
                    Login::Password {
                        secret: Secret::new(self.password.clone()),
                        remember: self.remember,
                    }
                } else if self.editing.is_some() && self.base.remember && self.remember {
                    Login::Keyring
                } else {
                    self.errors.push((
                        Field::Password,
                        "Enter the password (or the app password your provider gave you).".into(),
                    ));
                    Login::Keyring
                }
            }
        };
        if !self.errors.is_empty() {
            return None;
        }
        let port = port?;
        let mut account = self.base.clone();
        account.name =
            if self.name.trim().is_empty() { user.clone() } else { self.name.trim().to_string() };
        account.host = host;
        account.port = port;
        account.security = self.security;
        account.user = user;
        account.oauth2_command = match self.auth {
            Auth::OAuthCommand => Some(self.command.trim().to_string()),
            Auth::Password => None,
        };
        account.remember = self.remember && self.auth == Auth::Password;
        account.trusted_fingerprint = self.trusted_fingerprint.clone();
        Some((account, login))
    }

    /// What to connect to for these settings.
    pub fn target(account: &AccountSettings, login: Login) -> Target {
        let config: ImapConfig =
            account.imap_config(Credentials::Password(Secret::new(String::new())));
        Target::Imap {
            config: Box::new(config),
            login,
            keyring_key: account.keyring_key(),
            roles: account.roles.clone(),
        }
    }

    /// The screen: saved accounts on the left, the form on the right.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        saved: &[AccountSettings],
        busy: bool,
    ) -> Option<AccountAction> {
        let mut action = None;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(220.0);
                ui.heading("Your accounts");
                if saved.is_empty() {
                    ui.label("None saved yet.");
                }
                for (i, a) in saved.iter().enumerate() {
                    let label = format!("{} ({})", a.name, a.host);
                    if ui.selectable_label(self.editing == Some(i), label).clicked() {
                        action = Some(AccountAction::Edit(i));
                    }
                }
                ui.add_space(6.0);
                if ui.button("New account").clicked() {
                    action = Some(AccountAction::New);
                }
                ui.add_space(18.0);
                ui.heading("Local mail");
                ui.label(
                    "Mail kept on this computer in a Maildir folder (with cur/ and new/ inside).",
                );
                let l = ui.label("Maildir folder:");
                ui.add(
                    egui::TextEdit::singleline(&mut self.maildir)
                        .hint_text("/home/you/Maildir")
                        .desired_width(210.0),
                )
                .labelled_by(l.id);
                if let Some(e) = &self.maildir_error {
                    ui.label(RichText::new(e).color(error_color(ui)));
                }
                if ui.add_enabled(!busy, egui::Button::new("Scan this folder")).clicked() {
                    let path = self.maildir.trim();
                    if path.is_empty() {
                        self.maildir_error = Some("Enter the folder's path.".into());
                    } else {
                        self.maildir_error = None;
                        let path = match path.strip_prefix("~/") {
                            Some(rest) => std::env::var_os("HOME")
                                .map(|h| std::path::PathBuf::from(h).join(rest))
                                .unwrap_or_else(|| path.into()),
                            None => path.into(),
                        };
                        action = Some(AccountAction::OpenMaildir(path));
                    }
                }
            });
            ui.separator();
            ui.vertical(|ui| {
                if let Some(a) = self.form_ui(ui, busy) {
                    action = Some(a);
                }
            });
        });
        action
    }

    fn field_error(&self, ui: &mut Ui, field: Field) {
        if let Some(msg) = self.error(field) {
            ui.label(RichText::new(msg).color(error_color(ui)));
        }
    }

    fn form_ui(&mut self, ui: &mut Ui, busy: bool) -> Option<AccountAction> {
        let mut action = None;
        ui.heading(if self.editing.is_some() { "Edit account" } else { "Connect a mailbox" });
        ui.label("NeverSent reads your inbox and Sent folder over IMAP. It changes nothing until you choose to move bounces to Trash.");
        ui.add_space(6.0);
        egui::Grid::new("account-form").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Provider:");
            let mut chosen = None;
            egui::ComboBox::from_id_salt("provider")
                .selected_text(self.provider.name())
                .show_ui(ui, |ui| {
                    for p in Provider::ALL {
                        if ui.selectable_label(self.provider == p, p.name()).clicked() {
                            chosen = Some(p);
                        }
                    }
                })
                .response
                .labelled_by(l.id);
            if let Some(p) = chosen {
                self.apply_provider(p);
            }
            ui.end_row();

            let l = ui.label("Email address / user name:");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.user)
                        .hint_text("you@example.org")
                        .desired_width(300.0),
                )
                .labelled_by(l.id);
                self.field_error(ui, Field::User);
            });
            ui.end_row();

            let l = ui.label("Account name:");
            ui.add(
                egui::TextEdit::singleline(&mut self.name)
                    .hint_text("optional, e.g. Work")
                    .desired_width(300.0),
            )
            .labelled_by(l.id);
            ui.end_row();

            let l = ui.label("Server:");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.host)
                        .hint_text("imap.example.org")
                        .desired_width(300.0),
                )
                .labelled_by(l.id);
                self.field_error(ui, Field::Host);
            });
            ui.end_row();

            let l = ui.label("Port:");
            ui.vertical(|ui| {
                ui.add(egui::TextEdit::singleline(&mut self.port).desired_width(80.0))
                    .labelled_by(l.id);
                self.field_error(ui, Field::Port);
            });
            ui.end_row();

            let l = ui.label("Security:");
            let before = self.security;
            egui::ComboBox::from_id_salt("security")
                .selected_text(security_name(self.security))
                .show_ui(ui, |ui| {
                    for s in [Security::Implicit, Security::StartTls, Security::Plain] {
                        ui.selectable_value(&mut self.security, s, security_name(s));
                    }
                })
                .response
                .labelled_by(l.id);
            if before != self.security && self.port.trim() == before.default_port().to_string() {
                self.port = self.security.default_port().to_string();
            }
            ui.end_row();

            let l = ui.label("Sign in with:");
            ui.horizontal(|ui| {
                ui.radio_value(&mut self.auth, Auth::Password, "Password or app password");
                ui.radio_value(&mut self.auth, Auth::OAuthCommand, "OAuth token command");
            })
            .response
            .labelled_by(l.id);
            ui.end_row();

            match self.auth {
                Auth::Password => {
                    let l = ui.label("Password:");
                    ui.vertical(|ui| {
                        let hint = if self.editing.is_some() && self.base.remember {
                            "saved in the system keyring"
                        } else {
                            "app password"
                        };
                        ui.add(
                            egui::TextEdit::singleline(&mut self.password)
                                .password(true)
                                .hint_text(hint)
                                .desired_width(300.0),
                        )
                        .labelled_by(l.id);
                        self.field_error(ui, Field::Password);
                        ui.checkbox(&mut self.remember, "Remember password in the system keyring");
                    });
                    ui.end_row();
                }
                Auth::OAuthCommand => {
                    let l = ui.label("Token command:");
                    ui.vertical(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(&mut self.command)
                                .hint_text("oama access you@example.org")
                                .desired_width(300.0),
                        )
                        .labelled_by(l.id);
                        self.field_error(ui, Field::Command);
                        ui.label(
                            RichText::new(
                                "Run each time NeverSent connects; it must print an access token.",
                            )
                            .small(),
                        );
                    });
                    ui.end_row();
                }
            }
        });

        let (hint, link) = self.provider.hint();
        ui.add_space(4.0);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(hint);
            if let Some(url) = link {
                ui.hyperlink(url);
            }
        });
        if let Some(fp) = &self.trusted_fingerprint {
            ui.label(format!("You chose to trust the certificate with SHA-256 fingerprint {fp}."));
        }

        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let test = ui.add_enabled(!busy, egui::Button::new("Test connection"));
            if test.clicked() {
                if let Some((account, login)) = self.validate() {
                    self.status = Status::Testing;
                    action = Some(AccountAction::Test(AccountForm::target(&account, login)));
                }
            }
            let go =
                ui.add_enabled(!busy, egui::Button::new(RichText::new("Save and scan").strong()));
            if go.clicked() {
                if let Some((account, login)) = self.validate() {
                    self.status = Status::Connecting;
                    action = Some(AccountAction::Connect {
                        target: AccountForm::target(&account, login),
                        account: Box::new(account),
                    });
                }
            }
            if let Some(i) = self.editing {
                if ui.add_enabled(!busy, egui::Button::new("Forget this account")).clicked() {
                    action = Some(AccountAction::Forget(i));
                }
            }
        });
        ui.add_space(6.0);
        if let Some(a) = self.status_ui(ui) {
            action = Some(a);
        }
        action
    }

    fn status_ui(&mut self, ui: &mut Ui) -> Option<AccountAction> {
        let mut action = None;
        match self.status.clone() {
            Status::Idle => {}
            Status::Testing | Status::Connecting => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Connecting to {}…", self.host.trim()));
                });
            }
            Status::Works { sent, trash } => {
                ui.label(RichText::new("The connection works.").color(ok_color(ui)).strong());
                ui.label(format!(
                    "Sent folder: {}. Trash folder: {}.",
                    sent.as_deref().unwrap_or("not found (every bounce will be unverified)"),
                    trash.as_deref().unwrap_or("not found (nothing can be moved)")
                ));
            }
            Status::NeedPassword(reason) => {
                ui.label(
                    RichText::new(format!("{reason} Enter the password above."))
                        .color(error_color(ui)),
                );
            }
            Status::Failed(error) => {
                let summary = match &error {
                    StoreError::WrongPassword { .. } => "Sign-in failed",
                    StoreError::HostNotFound { .. } => "Server not found",
                    StoreError::ConnectionRefused { .. } => "Connection refused",
                    StoreError::Timeout { .. } => "No answer",
                    StoreError::CertificateNotTrusted { .. } => "Certificate not trusted",
                    StoreError::CertificateChanged { .. } => "Certificate changed",
                    StoreError::NoStartTls { .. } => "No STARTTLS",
                    StoreError::PlaintextRefused { .. } => "Unencrypted connection refused",
                    _ => "Could not connect",
                };
                egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.0, error_color(ui))).show(ui, |ui| {
                    ui.label(RichText::new(summary).strong().color(error_color(ui)));
                    ui.label(capitalize(&error.to_string()));
                    if let StoreError::CertificateNotTrusted { fingerprint, host, .. } = &error {
                        ui.add_space(4.0);
                        ui.label(format!("SHA-256 fingerprint of the certificate {host} presented:"));
                        ui.label(RichText::new(fingerprint).monospace());
                        ui.label("Only trust it if it matches the fingerprint your provider or administrator gives you. If it does not match, someone may be intercepting the connection.");
                        if ui.button("Trust this certificate").clicked() {
                            self.trusted_fingerprint = Some(fingerprint.clone());
                            if let Some((account, login)) = self.validate() {
                                self.status = Status::Testing;
                                action = Some(AccountAction::Test(AccountForm::target(&account, login)));
                            }
                        }
                    }
                    if let StoreError::CertificateChanged { .. } = &error {
                        if ui.button("Forget the trusted certificate").clicked() {
                            self.trusted_fingerprint = None;
                            self.status = Status::Idle;
                        }
                    }
                });
            }
        }
        action
    }
}

pub fn security_name(s: Security) -> &'static str {
    match s {
        Security::Implicit => "TLS (port 993)",
        Security::StartTls => "STARTTLS (port 143)",
        Security::Plain => "None (this computer only)",
    }
}

pub fn error_color(ui: &Ui) -> Color32 {
    ui.visuals().error_fg_color
}

pub fn ok_color(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(0x70, 0xd0, 0x80)
    } else {
        Color32::from_rgb(0x10, 0x80, 0x30)
    }
}

/// "connection refused: …" → "Connection refused: …".
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_each_missing_field() {
        let mut f = AccountForm::default();
        f.host.clear();
        f.port = "99999".into();
        assert!(f.validate().is_none());
        assert!(f.error(Field::Host).is_some());
        assert!(f.error(Field::Port).is_some());
        assert!(f.error(Field::User).is_some());
        assert!(f.error(Field::Password).is_some());
        f.apply_provider(Provider::Fastmail);
        f.user = "alex@example.org".into();
        f.password = "app-password".into();
        let (account, login) = f.validate().expect("valid");
        assert_eq!(account.host, "imap.fastmail.com");
        assert_eq!(account.name, "alex@example.org");
        assert!(matches!(login, Login::Password { remember: true, .. }));
    }

    #[test]
    fn outlook_uses_a_token_command() {
        let mut f = AccountForm::default();
        f.apply_provider(Provider::Outlook);
        assert_eq!(f.auth, Auth::OAuthCommand);
        f.user = "alex@contoso.example".into();
        assert!(f.validate().is_none());
        f.command = "oama access alex@contoso.example".into();
        let (account, _) = f.validate().expect("valid");
        assert_eq!(account.oauth2_command.as_deref(), Some("oama access alex@contoso.example"));
        assert!(!account.remember);
    }
}
