//! A keyring that is not there when NeverSent first asks (it starts later, or a KeePassXC
//! database is opened later), or that goes away and comes back, is used at the next try without
//! restarting NeverSent. Its own test binary: the keyring's bus address is this process's
//! environment.

mod support;

use neversent::config::secrets;
use neversent::mailstore::imap::Secret;
use support::keyring::Keyring;

fn saved(key: &str) -> Option<String> {
    secrets::get(key).expect("the keyring answers").map(|s| s.expose().to_owned())
}

#[test]
fn a_keyring_that_starts_late_or_comes_back_is_used_at_the_next_try() {
    let mut keyring = Keyring::bus_only();
    let key = "late@localhost";

    // Nothing answers on the bus yet: a clear error each time, never a panic.
    for _ in 0..2 {
        let err = secrets::set(key, &Secret::new("first try")).expect_err("no keyring yet");
        assert!(err.starts_with("the system keyring is not available ("), "{err}");
        let err = secrets::get(key).expect_err("no keyring yet");
        assert!(err.starts_with("the system keyring is not available ("), "{err}");
    }

    // The keyring comes up: the next save goes to it.
    keyring.start_daemon();
    secrets::set(key, &Secret::new("saved once it came up")).expect("the keyring is up");
    assert_eq!(saved(key).as_deref(), Some("saved once it came up"));

    // It goes away: an error again, not a stale answer.
    keyring.stop_daemon();
    let err = secrets::get(key).expect_err("the keyring is gone");
    assert!(err.starts_with("the system keyring is not available ("), "{err}");

    // It comes back (its keyrings on disk, unlocked again): the secret is found, and can be
    // forgotten.
    keyring.start_daemon();
    assert_eq!(saved(key).as_deref(), Some("saved once it came up"));
    secrets::delete(key).expect("forget it");
    assert_eq!(saved(key), None);
}
