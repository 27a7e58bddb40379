//! Attacks on the sample app, one kind a file: CSRF, sessions, cookie flags, user enumeration,
//! swapped flows, SMTP or the challenge API down, throttling, hostile addresses and names,
//! spoiled codes and key rotation.

mod addresses;
mod cookies;
mod csrf;
mod enumeration;
mod flow_binding;
mod http_adapter;
mod key_rotation;
mod notices;
mod pending_codes;
mod sessions;
mod smtp_down;
mod throttle;
mod unverified_names;
