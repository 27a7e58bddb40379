//! Mailbox challenges: email one-time codes done properly, a Rust client for them, and a
//! sample app that uses them.

pub mod accounts;
pub mod challenges;
pub mod client;
pub mod clock;
pub mod db;
pub mod domain;
pub mod mail;
pub mod metrics;
pub mod passkeys;
pub mod settings;
pub mod startup;
pub mod tls;
pub mod web;
