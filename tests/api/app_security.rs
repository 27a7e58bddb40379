//! Attacks on the sample app: CSRF, sessions, enumeration, injection, throttling, failures.
