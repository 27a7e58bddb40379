//! Sign-up: an email and a name; a code to the address proves it, and the account is created
//! verified.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::context::PageContext;
use super::csrf::CsrfForm;
use super::error::PageError;
use super::forms::{csrf_field, email_field, error_message, start_flow};
use super::layout::page;
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::Flow;
use crate::domain::{DisplayName, EmailAddress};

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

fn signup_page(context: &PageContext, form: &SignupForm, error: Option<&str>) -> Markup {
    page(
        "Sign up",
        context,
        html! {
            h1 { "Create an account" }
            p { "We'll email you a code to confirm the address. No password needed." }
            (error_message(error))
            form method="post" action="/signup" {
                (csrf_field(&context.csrf))
                (email_field("Email", &form.email))
                label { "Name" input type="text" name="name" value=(form.name) required maxlength="128" autocomplete="name"; }
                button type="submit" { "Send me a code" }
            }
            p { "Already have an account? " a href="/login" { "Sign in" } }
        },
    )
}

pub async fn form(session: AppSession, context: PageContext) -> HttpResponse {
    if context.user.is_some() {
        return see_other("/account");
    }
    let form = SignupForm { email: session.take_typed_email().unwrap_or_default(), name: String::new() };
    html(StatusCode::OK, signup_page(&context, &form, None))
}

pub async fn submit(
    CsrfForm(form): CsrfForm<SignupForm>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let refuse = |status, message: &str| html(status, signup_page(&context, &form, Some(message)));
    let parsed = EmailAddress::parse(&form.email)
        .map_err(|e| e.0)
        .and_then(|email| DisplayName::parse(&form.name).map(|name| (email, name)).map_err(|e| e.0));
    let (email, name) = match parsed {
        Ok(valid) => valid,
        Err(message) => return Ok(refuse(StatusCode::BAD_REQUEST, &message)),
    };
    start_flow(&state, &session, Flow::Signup { email, name }, refuse).await
}
