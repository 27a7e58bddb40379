//! Attacks on the sample app, one kind a file: CSRF, sessions, cookie flags, user enumeration,
//! swapped flows, SMTP or the challenge API down, throttling, and hostile addresses.

mod addresses;
mod cookies;
mod csrf;
mod enumeration;
mod flow_binding;
mod http_adapter;
mod sessions;
mod smtp_down;
mod throttle;
