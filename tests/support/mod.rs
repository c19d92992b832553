//! Shared by the integration tests: a private Dovecot per test.
pub mod dovecot;
