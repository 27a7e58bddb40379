//! Attacks on the challenge service and its client: lost codes, leaks into logs, bias, metadata.

pub mod log_leak;
mod metadata_round_trip;
mod smtp_failure;
