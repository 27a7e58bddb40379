//! The page shell and the form pieces every page shares.

use maud::{DOCTYPE, Markup, html};

use crate::accounts::users::User;

/// What every page shows around its content: the signed-in account, the sign-out form's CSRF
/// token and a one-shot notice.
pub struct Chrome {
    pub user: Option<User>,
    pub csrf: String,
    pub notice: Option<String>,
    /// A recovery session, which can only enrol a passkey: no links to elsewhere.
    pub recovering: bool,
}

fn document(title: &str, csrf: Option<&str>, header: Markup, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Mailbox challenges demo" }
                link rel="stylesheet" href="/static/app.css";
                @if let Some(token) = csrf {
                    // For the passkey script's JSON requests.
                    meta name="csrf-token" content=(token);
                }
            }
            body {
                (header)
                main { (content) }
                footer { "A reference app for email one-time codes and passkeys." }
            }
        }
    }
}

pub fn page(title: &str, chrome: &Chrome, content: Markup) -> Markup {
    let header = html! {
        header.site {
            a.brand href="/" { "Mailbox challenges" }
            nav {
                @if let Some(user) = &chrome.user {
                    a href="/account" { (user.email.as_str()) }
                    form.inline method="post" action="/logout" {
                        (csrf_field(&chrome.csrf))
                        button.link type="submit" { "Sign out" }
                    }
                } @else if chrome.recovering {
                    span.meta { "Recovering your account" }
                    form.inline method="post" action="/logout" {
                        (csrf_field(&chrome.csrf))
                        button.link type="submit" { "Cancel" }
                    }
                } @else {
                    a href="/login" { "Log in" }
                    a href="/signup" { "Sign up" }
                }
            }
        }
    };
    let content = html! {
        @if let Some(notice) = &chrome.notice {
            p.notice role="status" { (notice) }
        }
        (content)
    };
    document(title, Some(&chrome.csrf), header, content)
}

/// A page without session details, for errors.
pub fn bare_page(title: &str, content: Markup) -> Markup {
    document(title, None, html! { header.site { a.brand href="/" { "Mailbox challenges" } } }, content)
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

pub fn error_message(error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" { (error) }
        }
    }
}

/// `22 Nov 2026, 16:04 UTC`.
pub fn format_time(epoch_ms: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000)) else {
        return "unknown".into();
    };
    let month = &format!("{:?}", at.month())[..3];
    format!("{} {month} {}, {:02}:{:02} UTC", at.day(), at.year(), at.hour(), at.minute())
}

/// Where the passkey script writes what happened.
pub fn passkey_status() -> Markup {
    html! { p.passkey-status data-passkey-status role="status" aria-live="polite" {} }
}

pub fn passkey_script() -> Markup {
    html! { script src="/static/passkeys.js" defer {} }
}

/// A labelled email input.
pub fn email_field(label: &str, value: &str) -> Markup {
    email_input(label, value, "email")
}

/// The login page's email input: browsers offer saved passkeys in its autofill only when its
/// autocomplete names it the username and ends with `webauthn`.
pub fn email_field_with_passkeys(label: &str, value: &str) -> Markup {
    email_input(label, value, "username webauthn")
}

fn email_input(label: &str, value: &str, autocomplete: &str) -> Markup {
    html! {
        label {
            (label)
            input type="email" name="email" value=(value) required autocomplete=(autocomplete) maxlength="254";
        }
    }
}
