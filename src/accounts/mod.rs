//! The sample app's accounts: users, their sessions, the email-code flows, account recovery
//! and deletion.

pub mod deletion;
pub mod emails;
pub mod flows;
pub mod recovery;
pub mod session_store;
pub mod users;
