//! The page shell every page shares, and the pieces of the passkey script.

use maud::{DOCTYPE, Markup, html};

use super::assets::Asset;
use super::context::PageContext;
use super::dev_notes;
use super::forms::csrf_field;
use crate::clock::{format_time, iso_time};

/// `aside` follows the main content: the developer notes panel, or nothing.
fn document(title: &str, csrf: Option<&str>, header: Markup, content: Markup, aside: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Mailbox challenges demo" }
                link rel="stylesheet" href=(Asset::Stylesheet.url());
                link rel="icon" type="image/svg+xml" href=(Asset::Favicon.url());
                @if let Some(token) = csrf {
                    // For the passkey script's JSON requests.
                    meta name="csrf-token" content=(token);
                }
            }
            body {
                (header)
                main { (content) }
                (aside)
                footer { "A reference app for email one-time codes and passkeys." }
                (app_script())
            }
        }
    }
}

pub fn page(title: &str, context: &PageContext, content: Markup) -> Markup {
    let header = html! {
        header.site {
            a.brand href="/" { "Mailbox challenges" }
            nav {
                @if let Some(user) = &context.user {
                    a href="/account" { (user.email.as_str()) }
                    form.inline method="post" action="/logout" {
                        (csrf_field(&context.csrf))
                        button.link type="submit" { "Sign out" }
                    }
                } @else if context.recovering {
                    span.meta { "Recovering your account" }
                    form.inline method="post" action="/logout" {
                        (csrf_field(&context.csrf))
                        button.link type="submit" { "Cancel" }
                    }
                } @else {
                    a href="/login" { "Sign in" }
                    a href="/signup" { "Sign up" }
                }
            }
        }
    };
    // A success notice left from before would contradict an error beside it, so an error wins.
    let notice = context.notice.as_ref().filter(|_| !shows_error(&content));
    let content = html! {
        @if let Some(notice) = notice {
            p.notice role="status" { (notice) }
        }
        (content)
    };
    let notes = html! { @if context.dev_notes.shown() { (dev_notes::panel()) } };
    document(title, Some(&context.csrf), header, content, notes)
}

/// Whether `content` shows an error: every page draws its errors as alerts.
fn shows_error(content: &Markup) -> bool {
    content.0.contains(r#"role="alert""#)
}

/// A page without session details, for errors.
pub fn bare_page(title: &str, content: Markup) -> Markup {
    document(title, None, html! { header.site { a.brand href="/" { "Mailbox challenges" } } }, content, html! {})
}

/// The form that creates a passkey, after `choices`. The passkey script runs it, for the button
/// and for Enter in the name field alike; without the script it posts to a page saying so.
pub fn new_passkey_form(csrf: &str, choices: Markup, placeholder: &str, button: &str) -> Markup {
    html! {
        form method="post" action="/passkeys/register" data-passkey-form {
            (csrf_field(csrf))
            (choices)
            label { "Name for the new passkey" input type="text" name="name" maxlength="64" placeholder=(placeholder); }
            button type="submit" data-passkey-register { (button) }
        }
    }
}

/// A moment as the viewer reads it: the page says it in UTC, and the page script rewrites it in
/// the browser's own time zone, keeping the UTC time on hover. Without the script, UTC stays.
pub fn moment(epoch_ms: i64) -> Markup {
    let utc = format_time(epoch_ms);
    html! { time datetime=(iso_time(epoch_ms)) title=(utc) data-local { (utc) } }
}

/// Where the passkey script writes what happened.
pub fn passkey_status() -> Markup {
    html! { p.passkey-status data-passkey-status role="status" aria-live="polite" {} }
}

pub fn passkey_script() -> Markup {
    html! { script src=(Asset::PasskeyScript.url()) defer {} }
}

/// The progressive enhancements every page may use: local times, the resend countdown, the
/// mailbox's previews.
fn app_script() -> Markup {
    html! { script src=(Asset::Script.url()) defer {} }
}
