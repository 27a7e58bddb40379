//! The front page: the story of the demo, one flow a line in the order to try them (passkeys
//! first, email codes as the fallback, then recovery), each with a link to start it.

use actix_web::web;
use maud::{Markup, html};

use super::context::PageContext;
use super::layout::page;
use crate::mail::DevMailbox;

pub async fn home(context: PageContext, mailbox: Option<web::Data<DevMailbox>>) -> Markup {
    page(
        "Home",
        &context,
        html! {
            h1 { "Mailbox challenges, end to end" }
            p {
                "This app shows passkeys with email one-time codes done properly: each code expires, allows a few "
                "attempts, works once, and is useless without a secret that only this server holds."
            }
            h2 { "Passkeys first" }
            ul.flows {
                (flow("/login", "Sign in with a passkey", "your fingerprint, face or screen lock: nothing to type, nothing to phish."))
                (flow("/account", "Add a passkey", "on your account page, once you are signed in."))
            }
            h2 { "Email codes as the fallback" }
            ul.flows {
                (flow("/signup", "Sign up", "prove your email with a code; the account is created verified."))
                (flow("/login", "Sign in with a code", "no passkey on this device? We email you a 6-digit code."))
                (flow("/account/email", "Change your email", "a code to the new address confirms it, and the old one is told."))
            }
            h2 { "Recovery" }
            ul.flows {
                (flow("/recover", "Lost your passkey?", "a code to your email opens a short session that can only add a new passkey."))
            }
            h2 { "Under the hood" }
            p.meta {
                "The challenge REST API this app uses is served at " code { "CHALLENGE_API_ADDR" } " ("
                code { "127.0.0.1:8787" } " by default)."
            }
            @if mailbox.is_some() {
                p.meta {
                    "No mail server is set, so every email the app sends lands in the development mailbox at "
                    a href="/dev/mailbox" { "/dev/mailbox" } "."
                }
            }
        },
    )
}

/// One flow: a link that starts it, and what it shows in a sentence.
fn flow(start: &str, name: &str, what: &str) -> Markup {
    html! { li { a href=(start) { (name) } " — " (what) } }
}
