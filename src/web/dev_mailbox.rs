//! `/dev/mailbox`: every email the app sent, newest first, as the recipient would see it.
//! Only mounted in development without SMTP, so a browser demo needs no mail server.
//! `/dev/mailbox?to=ADDRESS` shows only the newest email to that address (any case), so a
//! script reading one person's code need not fetch everyone's.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::context::PageContext;
use super::error::PageError;
use super::layout::{moment, page};
use super::response::html;
use crate::mail::DevMailbox;

const SHOWN: u32 = 50;

#[derive(Deserialize)]
pub struct MailboxFilter {
    to: Option<String>,
}

pub async fn list(
    mailbox: web::Data<DevMailbox>,
    filter: web::Query<MailboxFilter>,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let messages = match &filter.to {
        Some(recipient) => mailbox.latest_to(recipient).await?.into_iter().collect(),
        None => mailbox.list(SHOWN).await?,
    };
    Ok(html(
        StatusCode::OK,
        page(
            "Development mailbox",
            &context,
            html! {
                h1 { "Development mailbox" }
                @match &filter.to {
                    Some(recipient) => p { "The newest email to " strong { (recipient) } ". " a href="/dev/mailbox" { "Show every email" } },
                    None => p { "Every email the app sent (newest first, up to " (SHOWN) "). Set SMTP_URL to send real mail instead." },
                }
                @if messages.is_empty() {
                    p { @if filter.to.is_some() { "Nothing has been sent to that address." } @else { "Nothing has been sent yet." } }
                }
                @for message in &messages {
                    article.message data-recipient=(message.recipient) {
                        h2 { (message.subject) }
                        p.meta { "To " strong.recipient { (message.recipient) } " · " (moment(message.sent_at)) }
                        // The HTML part runs in a sandbox with no scripts, as mail clients do; the
                        // same origin only lets app.js size the frame to its content.
                        iframe sandbox="allow-same-origin" title=(format!("HTML of: {}", message.subject)) srcdoc=(message.html) {}
                        details { summary { "Plain text" } pre.text { (message.text) } }
                    }
                }
            },
        ),
    ))
}
