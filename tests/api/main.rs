//! One integration-test binary (one link step): the challenge service over real HTTP and
//! in-process, against a real SQLite file and a real SMTP server.

mod app_flows;
mod app_security;
mod at_rest;
mod bad_input;
mod cli;
mod concurrency;
mod contract;
mod mail;
mod passkeys;
mod support;
mod wire;
