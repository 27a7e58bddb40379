//! Confirming it's you: where the recent-authentication gate (`guards::RecentlySignedIn`) sends
//! a person, to sign in again with a passkey or an email code and continue where they were.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::{csrf_field, error_message, start_flow};
use super::guards::SignedIn;
use super::layout::{page, passkey_script, passkey_status};
use super::response::html;
use super::session::AppSession;
use crate::accounts::flows::Flow;

fn reauth_page(context: &PageContext, error: Option<&str>) -> maud::Markup {
    page(
        "Confirm it's you",
        context,
        html! {
            h1 { "Confirm it's you" }
            p { "This change needs a recent sign-in. Use your passkey, or get a code by email." }
            (error_message(error))
            form data-passkey-form {
                button type="button" data-passkey-login { "Use my passkey" }
            }
            (passkey_status())
            form method="post" action="/reauth/email" {
                (csrf_field(&context.csrf))
                button.link type="submit" { "Email me a code instead" }
            }
            (passkey_script())
        },
    )
}

#[derive(serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `?next=/path` says where to continue; the session only ever returns to paths of this site.
pub async fn show(
    _: SignedIn,
    session: AppSession,
    context: PageContext,
    query: web::Query<Next>,
) -> Result<HttpResponse, PageError> {
    if let Some(next) = &query.next {
        session.set_return_to(next)?;
    }
    Ok(html(StatusCode::OK, reauth_page(&context, None)))
}

/// Confirms by email: a login code to the account's own address.
pub async fn by_email(
    _: CsrfForm<NoFields>,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let refuse = |status, message: &str| html(status, reauth_page(&context, Some(message)));
    start_flow(&state, &session, Flow::Login { email: user.email }, refuse).await
}
