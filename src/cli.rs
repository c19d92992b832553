//! The command line: `neversent scan ACCOUNT` and `neversent clean ACCOUNT`, for automation and
//! tests. JSON with `--json`, tables for people otherwise. Exit codes: 0 success, 1 a failure
//! the message explains, 2 bad usage.

use crate::clean::{self, CleanPlan};
use crate::config::Settings;
use crate::mailstore::imap::{Credentials, ImapConfig, ImapStore, Secret, Security};
use crate::mailstore::maildir::MaildirStore;
use crate::mailstore::{MailStore, RoleOverrides, Uid};
use crate::scan::{self, cache::CacheLocation, ScanConfig, ScanEvent, ScanReport};
use crate::triage::Verdict;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub const USAGE: &str = "usage:
  neversent                          open the desktop app
  neversent --demo                   the desktop app on the bundled demo mailbox
  neversent analyze PATH... [--json]
  neversent scan ACCOUNT [--json] [--no-cache]
  neversent clean ACCOUNT (--dry-run | --yes) [--uid N]... [--json] [--no-cache]
ACCOUNT:
  --host H [--port P] --user U [--tls implicit|starttls|none] [--ca-cert PEM]
      [--trust-fingerprint SHA256] [--password-command CMD | --oauth2-command CMD]
      (password from $NEVERSENT_PASSWORD, --password-command or the keyring)
  --account NAME        an account saved in the app
  --maildir DIR         a local Maildir";

/// A usage error (exit 2) or a failure (exit 1).
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Failed(String),
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Failed(e.to_string())
    }
}

/// The account options shared by scan and clean.
#[derive(Debug, Default, Clone)]
pub struct AccountArgs {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub tls: Option<Security>,
    pub ca_cert: Option<PathBuf>,
    pub trust_fingerprint: Option<String>,
    pub password_command: Option<String>,
    pub oauth2_command: Option<String>,
    pub account: Option<String>,
    pub maildir: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct Args {
    account: AccountArgs,
    json: bool,
    no_cache: bool,
    dry_run: bool,
    yes: bool,
    uids: Vec<Uid>,
}

fn parse(args: &[String], for_clean: bool) -> Result<Args, CliError> {
    let mut a = Args::default();
    let mut it = args.iter();
    let usage = |m: String| CliError::Usage(format!("{m}\n{USAGE}"));
    while let Some(arg) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or_else(|| usage(format!("{name} needs a value")));
        match arg.as_str() {
            "--json" => a.json = true,
            "--no-cache" => a.no_cache = true,
            "--dry-run" if for_clean => a.dry_run = true,
            "--yes" if for_clean => a.yes = true,
            "--uid" if for_clean => {
                let v = value("--uid")?;
                a.uids.push(
                    v.parse().map_err(|_| usage(format!("--uid takes a number, not {v:?}")))?,
                );
            }
            "--host" => a.account.host = Some(value("--host")?),
            "--port" => {
                let v = value("--port")?;
                a.account.port = Some(
                    v.parse().map_err(|_| usage(format!("--port takes a number, not {v:?}")))?,
                );
            }
            "--user" => a.account.user = Some(value("--user")?),
            "--tls" => {
                a.account.tls = Some(match value("--tls")?.as_str() {
                    "implicit" => Security::Implicit,
                    "starttls" => Security::StartTls,
                    "none" => Security::Plain,
                    other => {
                        return Err(usage(format!(
                            "--tls is implicit, starttls or none, not {other:?}"
                        )))
                    }
                })
            }
            "--ca-cert" => a.account.ca_cert = Some(PathBuf::from(value("--ca-cert")?)),
            "--trust-fingerprint" => {
                a.account.trust_fingerprint = Some(value("--trust-fingerprint")?)
            }
            "--password-command" => a.account.password_command = Some(value("--password-command")?),
            "--oauth2-command" => a.account.oauth2_command = Some(value("--oauth2-command")?),
            "--account" => a.account.account = Some(value("--account")?),
            "--maildir" => a.account.maildir = Some(PathBuf::from(value("--maildir")?)),
            other => return Err(usage(format!("unknown argument {other:?}"))),
        }
    }
    if for_clean && a.dry_run == a.yes {
        return Err(usage("clean needs exactly one of --dry-run or --yes".into()));
    }
    let acc = &a.account;
    let kinds = [acc.host.is_some(), acc.account.is_some(), acc.maildir.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(usage("name one account: --host …, --account NAME or --maildir DIR".into()));
    }
    if acc.host.is_some() && acc.user.is_none() {
        return Err(usage("--host needs --user".into()));
    }
    Ok(a)
}

fn run_command(cmd: &str) -> Result<String, CliError> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::inherit())
        .output()
        .map_err(|e| CliError::Failed(format!("cannot run the password command: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Failed(format!(
            "the password command failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let s = String::from_utf8_lossy(&out.stdout);
    Ok(s.trim_end_matches(['\r', '\n']).to_string())
}

/// An opened mailbox and the key its cache is filed under.
pub struct Opened {
    pub store: Box<dyn MailStore>,
    pub cache_key: String,
    pub roles: RoleOverrides,
}

/// Opens the account the options name.
pub fn open_account(acc: &AccountArgs) -> Result<Opened, CliError> {
    if let Some(dir) = &acc.maildir {
        let store = MaildirStore::open(dir)?;
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()).display().to_string();
        return Ok(Opened {
            store: Box::new(store),
            cache_key: key,
            roles: RoleOverrides::default(),
        });
    }
    let mut cfg: ImapConfig;
    let mut roles = RoleOverrides::default();
    let mut saved_name = None;
    if let Some(name) = &acc.account {
        let settings = Settings::load().map_err(CliError::Failed)?;
        let saved = settings
            .accounts
            .iter()
            .find(|a| &a.name == name)
            .ok_or_else(|| CliError::Failed(format!("no saved account named {name:?}")))?;
        cfg = saved.imap_config(Credentials::Password(Secret::new(String::new())));
        roles = saved.roles.clone();
        saved_name = Some(saved.clone());
    } else {
        let host = acc.host.clone().unwrap_or_default();
        let user = acc.user.clone().unwrap_or_default();
        cfg = ImapConfig::new(&host, &user, Credentials::Password(Secret::new(String::new())));
        let security = acc.tls.unwrap_or(Security::Implicit);
        cfg.security = security;
        cfg.port = acc.port.unwrap_or(security.default_port());
        cfg.allow_plaintext = security == Security::Plain;
    }
    if let Some(p) = &acc.ca_cert {
        cfg.ca_cert = Some(p.clone());
    }
    if let Some(f) = &acc.trust_fingerprint {
        cfg.trusted_fingerprint = Some(f.clone());
    }
    cfg.timeout = Duration::from_secs(30);
    cfg.credentials = if let Some(cmd) = &acc.oauth2_command {
        Credentials::OAuth2Command(cmd.clone())
    } else if let Some(cmd) = &acc.password_command {
        Credentials::Password(Secret::new(run_command(cmd)?))
    } else if let Ok(pw) = std::env::var("NEVERSENT_PASSWORD") {
        Credentials::Password(Secret::new(pw))
    } else if let Some(saved) = &saved_name {
        if let Some(cmd) = &saved.oauth2_command {
            Credentials::OAuth2Command(cmd.clone())
        } else {
            match crate::config::secrets::get(&saved.keyring_key()) {
                Ok(Some(pw)) => Credentials::Password(pw),
                Ok(None) => {
                    return Err(CliError::Failed(format!(
                        "no password saved for account {:?}: set NEVERSENT_PASSWORD or use --password-command",
                        saved.name
                    )))
                }
                Err(e) => {
                    return Err(CliError::Failed(format!(
                        "{e}; set NEVERSENT_PASSWORD or use --password-command instead"
                    )))
                }
            }
        }
    } else {
        return Err(CliError::Failed(
            "no password: set NEVERSENT_PASSWORD, use --password-command CMD, or save the account in the app".into(),
        ));
    };
    let key = format!("{}@{}:{}", cfg.user, cfg.host, cfg.port);
    let store = ImapStore::connect(&cfg)?;
    Ok(Opened { store: Box::new(store), cache_key: key, roles })
}

fn do_scan(
    opened: &mut Opened,
    no_cache: bool,
    show_progress: bool,
) -> Result<ScanReport, CliError> {
    let cfg = ScanConfig {
        roles: opened.roles.clone(),
        cache: if no_cache { None } else { CacheLocation::standard(&opened.cache_key) },
        ..Default::default()
    };
    let cancel = AtomicBool::new(false);
    let mut last_phase = None;
    let mut events = |e: ScanEvent| match e {
        ScanEvent::Phase(p) if show_progress && last_phase != Some(p) => {
            eprintln!("{}…", p.describe());
            last_phase = Some(p);
        }
        ScanEvent::Warning(w) => eprintln!("warning: {w}"),
        _ => {}
    };
    Ok(scan::scan(opened.store.as_mut(), &cfg, &mut events, &cancel)?)
}

fn ymd(ts: i64) -> String {
    let d = mail_parser::DateTime::from_timestamp(ts);
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

fn clip(s: &str, n: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn scan_json(r: &ScanReport) -> serde_json::Value {
    serde_json::json!({
        "mailbox": r.mailbox,
        "uidvalidity": r.uidvalidity,
        "sent_mailbox": r.sent_mailbox,
        "sent_messages": r.sent_messages,
        "scanned": r.scanned,
        "items": r.items.iter().map(|i| serde_json::json!({
            "uid": i.uid,
            "kind": crate::bounce::kind_name(&i.analysis.kind),
            "verdict": i.verdict.map(Verdict::name),
            "original_message_id": i.analysis.original.message_id,
            "reasons": i.reasons,
        })).collect::<Vec<_>>(),
    })
}

fn print_scan_table(r: &ScanReport) {
    println!(
        "Scanned {} messages in {}; compared with {} messages in {}.",
        r.scanned,
        r.mailbox,
        r.sent_messages,
        r.sent_mailbox.as_deref().unwrap_or("(no Sent folder)")
    );
    if r.items.is_empty() {
        println!("No bounces found.");
        return;
    }
    println!(
        "{:>7}  {:<11}  {:<18}  {:<10}  {:<28}  SUBJECT",
        "UID", "VERDICT", "KIND", "DATE", "CLAIMS YOU WROTE TO"
    );
    for i in &r.items {
        println!(
            "{:>7}  {:<11}  {:<18}  {:<10}  {:<28}  {}",
            i.uid,
            i.verdict.map(Verdict::name).unwrap_or("?"),
            crate::bounce::kind_name(&i.analysis.kind),
            i.date.map(ymd).unwrap_or_default(),
            clip(&i.analysis.original.recipients.join(", "), 28),
            clip(i.analysis.original.subject.as_deref().unwrap_or(&i.subject), 50),
        );
    }
    println!(
        "Backscatter: {} · Genuine: {} · Unverified: {} · Suspicious: {}",
        r.count(Verdict::Backscatter),
        r.count(Verdict::Genuine),
        r.count(Verdict::Unverified),
        r.count(Verdict::Suspicious)
    );
}

fn cmd_scan(args: &[String]) -> Result<(), CliError> {
    let a = parse(args, false)?;
    let mut opened = open_account(&a.account)?;
    let report = do_scan(&mut opened, a.no_cache, !a.json && std::io::stderr().is_terminal())?;
    if a.json {
        println!("{}", scan_json(&report));
    } else {
        print_scan_table(&report);
    }
    Ok(())
}

fn cmd_clean(args: &[String]) -> Result<(), CliError> {
    let a = parse(args, true)?;
    let mut opened = open_account(&a.account)?;
    let report = do_scan(&mut opened, a.no_cache, !a.json && std::io::stderr().is_terminal())?;
    let explicit = if a.uids.is_empty() { None } else { Some(a.uids.as_slice()) };
    let plan: CleanPlan = clean::plan(&report, explicit)?;
    if a.dry_run {
        if a.json {
            println!(
                "{}",
                serde_json::json!({"moved": 0, "would_move": plan.uids.len(), "uids": plan.uids, "to": plan.trash, "dry_run": true})
            );
        } else {
            println!(
                "Would move {} messages from {} to {}: UIDs {:?}",
                plan.uids.len(),
                plan.mailbox,
                plan.trash,
                plan.uids
            );
        }
        return Ok(());
    }
    let cancel = AtomicBool::new(false);
    let show = !a.json && std::io::stderr().is_terminal();
    let outcome = clean::execute(
        opened.store.as_mut(),
        &plan,
        &mut |done, total| {
            if show {
                eprintln!("moved {done} of {total}");
            }
        },
        &cancel,
    )?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"moved": outcome.moved.len(), "uids": outcome.moved, "to": outcome.to})
        );
    } else {
        println!("Moved {} messages to {}.", outcome.moved.len(), outcome.to);
        if !outcome.missing.is_empty() {
            println!("{} were already gone from {}.", outcome.missing.len(), plan.mailbox);
        }
    }
    if !outcome.left_flagged.is_empty() {
        eprintln!(
            "note: this server cannot remove single messages (no UIDPLUS), so {} messages were copied to {} and marked deleted, but left in {}; your mail app removes them when it next compacts the folder.",
            outcome.left_flagged.len(),
            outcome.to,
            plan.mailbox
        );
    }
    Ok(())
}

/// Runs a subcommand. `args` are all arguments after the program name, starting with the
/// subcommand. Returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let Some(cmd) = args.first() else { return 2 };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "analyze" => {
            return match crate::analyze_cli::run(rest) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("neversent: {e}");
                    2
                }
            }
        }
        "scan" => cmd_scan(rest),
        "clean" => cmd_clean(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return 0;
        }
        other => Err(CliError::Usage(format!("unknown command {other:?}\n{USAGE}"))),
    };
    match result {
        Ok(()) => 0,
        Err(CliError::Usage(m)) => {
            eprintln!("neversent: {m}");
            2
        }
        Err(CliError::Failed(m)) => {
            eprintln!("neversent: {m}");
            1
        }
    }
}
