//! The sample app's accounts: users, their sessions, the email-code flows and account recovery.

pub mod emails;
pub mod flows;
pub mod recovery;
pub mod session_store;
pub mod users;
