//! Passkeys over real HTTP with a software authenticator, one feature a file: enrolment,
//! sign-in, managing passkeys, naming them by provider, the recent-authentication gate, and
//! account recovery.
//!
//! The tests play the browser's part with a software authenticator
//! (`crate::support::passkey`), which cannot keep resident keys: see there for how.

mod enrolment;
mod management;
mod providers;
mod races;
mod reauth;
mod recovery;
mod sign_in;
