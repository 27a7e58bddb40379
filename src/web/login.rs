//! Signing in: a passkey first, or a code sent to the account's email.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::context::PageContext;
use super::csrf::CsrfForm;
use super::error::PageError;
use super::forms::{EmailForm, csrf_field, email_field_with_passkeys, error_message, start_email_flow};
use super::layout::{page, passkey_script, passkey_status};
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::Flow;

fn login_page(context: &PageContext, form: &EmailForm, error: Option<&str>) -> Markup {
    page(
        "Sign in",
        context,
        html! {
            h1 { "Sign in" }
            form data-passkey-form {
                button type="button" data-passkey-login { "Sign in with a passkey" }
            }
            (passkey_status())
            p.divider { "or get a code by email" }
            (error_message(error))
            form method="post" action="/login" data-passkey-autofill {
                (csrf_field(&context.csrf))
                (email_field_with_passkeys("Email", &form.email))
                button.secondary type="submit" { "Send me a code" }
            }
            p { a href="/recover" { "Lost your passkey?" } " · New here? " a href="/signup" { "Create an account" } }
            (passkey_script())
        },
    )
}

pub async fn form(session: AppSession, context: PageContext) -> HttpResponse {
    // Taken even when it will not be shown: after confirming it's you by email, Cancel leads
    // here, and the address must not wait to fill some later form.
    let form = EmailForm::as_left(&session);
    if context.user.is_some() {
        return see_other("/account");
    }
    html(StatusCode::OK, login_page(&context, &form, None))
}

pub async fn submit(
    CsrfForm(form): CsrfForm<EmailForm>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let refuse = |status, message: &str| html(status, login_page(&context, &form, Some(message)));
    start_email_flow(&state, &session, &form, |email| Flow::Login { email }, refuse).await
}
