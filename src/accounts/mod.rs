//! The sample app's accounts: users, their sessions, and the email-code flows.

pub mod emails;
pub mod flows;
pub mod session_store;
pub mod users;
