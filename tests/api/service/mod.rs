//! Attacks on the challenge service and its client: lost codes, leaks into logs, bias, metadata.
