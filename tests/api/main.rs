//! One integration-test binary (one link step): the challenge service over real HTTP and
//! in-process, against a real SQLite file and a real SMTP server.

mod at_rest;
mod bad_input;
mod cli;
mod concurrency;
mod contract;
mod flows;
mod instances;
mod layering;
mod logs;
mod mail;
mod passkeys;
mod pg_cluster;
mod security;
mod service;
mod site;
mod storage;
mod support;
mod wire;
