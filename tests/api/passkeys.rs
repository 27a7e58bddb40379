//! Passkeys over real HTTP with a software authenticator: enrolment, sign-in, management,
//! the recent-authentication gate, and account recovery.
