//! A real OS keyring for tests: a D-Bus session bus of its own with gnome-keyring's Secret
//! Service on it, its keyrings in a temporary directory, unlocked with a known password. Nothing
//! of the user's own session is touched.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password the test keyring is locked with (not a mail password).
pub const KEYRING_PASSWORD: &str = "unlock-the-test-keyring";

pub struct Keyring {
    pub dir: tempfile::TempDir,
    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub bus: String,
    bus_daemon: Child,
    /// gnome-keyring, while it runs.
    keyring_daemon: Option<Child>,
}

impl Keyring {
    /// Starts the bus and the keyring, and sets this process's environment to use them (call it
    /// once, first thing, in a test binary of its own: the environment is the process's).
    /// Panics, saying what to install, when dbus-daemon or gnome-keyring is missing.
    pub fn start() -> Keyring {
        let mut keyring = Keyring::bus_only();
        keyring.start_daemon();
        use neversent::config::secrets;
        let probe = "probe@nowhere.invalid";
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match secrets::set(probe, &neversent::mailstore::imap::Secret::new("probe")) {
                Ok(()) => break,
                Err(e) if Instant::now() > deadline => {
                    panic!("the test keyring does not take a secret: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        secrets::delete(probe).expect("forget the probe");
        assert!(secrets::get(probe).expect("lookup").is_none(), "the probe was forgotten");
        keyring
    }

    /// Only the bus, with no keyring on it yet (see [`Self::start_daemon`]); this process's
    /// environment is set to use it.
    pub fn bus_only() -> Keyring {
        for (binary, package) in [
            ("/usr/bin/dbus-daemon", "dbus-daemon"),
            ("/usr/bin/dbus-send", "dbus-bin"),
            ("/usr/bin/gnome-keyring-daemon", "gnome-keyring"),
        ] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the keyring tests need a real Secret Service.\n\
                 Install it with:  sudo apt-get install -y {package}   (or run scripts/test, which does)"
            );
        }
        let dir = tempfile::Builder::new().prefix("neversent-keyring-").tempdir().expect("tempdir");
        let (home, data, runtime) = Keyring::dirs(dir.path());
        for d in [&data, &runtime] {
            std::fs::create_dir_all(d).expect("keyring dirs");
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod");

        // A bus that starts nothing by itself. The stock session bus would start a second
        // gnome-keyring of its own (its org.freedesktop.secrets.service, with the bus's HOME)
        // for a call that comes before ours has taken the name; that one has no login keyring,
        // keeps the name, and every save fails (seen on a slow machine: "result not returned").
        let socket = dir.path().join("bus");
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(&socket)).expect("write the bus config");
        let mut bus_daemon = Command::new("/usr/bin/dbus-daemon")
            .args(["--nofork", "--print-address=1"])
            .arg(format!("--config-file={}", config.display()))
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbus-daemon");
        // It prints its address once it listens.
        let mut bus = String::new();
        let stdout = bus_daemon.stdout.take().expect("stdout");
        if BufReader::new(stdout).read_line(&mut bus).unwrap_or(0) == 0 {
            let mut err = String::new();
            if let Some(mut e) = bus_daemon.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("dbus-daemon did not start: {err}");
        }
        let bus = bus.trim().to_owned();
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);
        Keyring { dir, bus, bus_daemon, keyring_daemon: None }
    }

    /// The keyring's home, data and runtime directories under `dir`.
    fn dirs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let home = dir.join("home");
        let data = home.join(".local/share");
        (home, data, dir.join("run"))
    }

    /// Starts gnome-keyring on the bus, its login keyring made (the first time) or unlocked
    /// with [`KEYRING_PASSWORD`]; returns once it has taken its name on the bus.
    pub fn start_daemon(&mut self) {
        assert!(self.keyring_daemon.is_none(), "gnome-keyring runs already");
        let (home, data, runtime) = Keyring::dirs(self.dir.path());
        let login = self.keyrings().join("login.keyring");
        let mut daemon = Command::new("/usr/bin/gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        // --unlock reads the login keyring's password from stdin, up to its end.
        {
            let mut stdin = daemon.stdin.take().expect("stdin");
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).expect("unlock the keyring");
        }
        let ours = daemon.id();
        self.keyring_daemon = Some(daemon);
        // Ready when it has made the login keyring (the first time; its file appears) and
        // taken its name on the bus, in that order. A save before the login keyring exists
        // makes it ask, on a screen there is not, for a new default keyring, and it stays
        // stuck.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !login.exists() {
            self.check_running("making its keyring");
            assert!(Instant::now() < deadline, "gnome-keyring made no login keyring in 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        loop {
            let owner = self.secret_service_owner();
            if owner == Some(ours) {
                break;
            }
            self.check_running("taking its name on the bus");
            assert!(
                Instant::now() < deadline,
                "gnome-keyring (pid {ours}) did not take org.freedesktop.secrets in 60 s \
                 (its owner: {owner:?})"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops gnome-keyring (its keyrings stay on disk) and waits until its name is free.
    pub fn stop_daemon(&mut self) {
        let mut daemon = self.keyring_daemon.take().expect("gnome-keyring runs");
        let _ = daemon.kill();
        let _ = daemon.wait();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.secret_service_owner().is_some() {
            assert!(Instant::now() < deadline, "org.freedesktop.secrets still owned after 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Panics if gnome-keyring has exited.
    fn check_running(&mut self, doing: &str) {
        if let Some(Ok(Some(status))) = self.keyring_daemon.as_mut().map(Child::try_wait) {
            panic!("gnome-keyring-daemon exited ({status}) before {doing}");
        }
    }

    /// The process id of whoever owns org.freedesktop.secrets on the test bus, if anyone.
    fn secret_service_owner(&self) -> Option<u32> {
        let out = Command::new("/usr/bin/dbus-send")
            .arg(format!("--bus={}", self.bus))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .expect("run dbus-send (package dbus-bin, which dbus-daemon brings)");
        // The reply's last word: "   uint32 12345".
        let reply = String::from_utf8_lossy(&out.stdout);
        out.status.success().then(|| reply.split_whitespace().last()?.parse().ok()).flatten()
    }

    /// Where gnome-keyring keeps its keyrings (encrypted).
    pub fn keyrings(&self) -> PathBuf {
        self.dir.path().join("home/.local/share/keyrings")
    }

    /// Every byte gnome-keyring wrote to disk.
    pub fn files_on_disk(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.keyrings()).into_iter().flatten().flatten() {
            all.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
        all
    }
}

/// A session bus's configuration with no service directories: it activates nothing.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        xml_escape(&socket.display().to_string())
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Drop for Keyring {
    fn drop(&mut self) {
        for child in self.keyring_daemon.iter_mut().chain([&mut self.bus_daemon]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
