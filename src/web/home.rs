//! The front page: what the demo shows and where each flow starts.

use actix_web::web;
use maud::{Markup, html};

use super::context::PageContext;
use super::layout::page;
use crate::mail::DevMailbox;

pub async fn home(context: PageContext, mailbox: Option<web::Data<DevMailbox>>) -> Markup {
    let signed_in = context.user.is_some();
    page(
        "Home",
        &context,
        html! {
            h1 { "Mailbox challenges, end to end" }
            p {
                "This app shows email one-time codes done properly: each code expires, allows a few attempts, "
                "works once, and is useless without a secret that only this server holds."
            }
            ul.flows {
                @if signed_in {
                    li { a href="/account" { "Your account" } " — your details, and changing your email with a code." }
                } @else {
                    li { a href="/signup" { "Sign up" } " — prove your email with a code; the account is created verified." }
                    li { a href="/login" { "Log in" } " — passwordless, with a code sent to your email." }
                }
                @if mailbox.is_some() {
                    li { a href="/dev/mailbox" { "Development mailbox" } " — every email the app sent (no SMTP server is set)." }
                }
            }
        },
    )
}
