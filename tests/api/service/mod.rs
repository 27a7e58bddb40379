//! Attacks on the challenge service and its client: lost codes, leaks into logs, bias, metadata;
//! and what operators rely on: the OpenAPI document, the health probes, metrics and a clean stop.

mod crash;
mod db_trouble;
mod health;
mod hostile_clients;
pub mod log_leak;
mod metadata_round_trip;
mod metrics;
mod openapi;
mod shutdown;
mod smtp_failure;
mod smtp_trouble;
