//! The code page every flow shares: enter the code, ask for a new one, or cancel. It is rebuilt
//! from the session and the service on every load, so a reload or a new tab restores it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::{PageError, flow_status};
use super::forms::{csrf_field, error_message};
use super::layout::page;
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::{Completed, Flow, FlowError, Pending};

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

fn heading(flow: &Flow) -> &'static str {
    match flow {
        Flow::Signup { .. } => "Confirm your email",
        Flow::Login { .. } => "Enter your sign-in code",
        Flow::EmailChange { .. } => "Confirm your new email",
        Flow::Recovery { .. } => "Enter your recovery code",
    }
}

/// What the code page shows besides the form.
struct CodePage<'a> {
    flow: &'a Flow,
    masked_email: String,
    expired: bool,
    resend_wait: u64,
    error: Option<&'a str>,
}

fn code_page(context: &PageContext, view: CodePage<'_>) -> Markup {
    page(
        heading(view.flow),
        context,
        html! {
            h1 { (heading(view.flow)) }
            p { "We sent a 6-digit code to " strong.mailbox { (view.masked_email) } ". It may take a minute to arrive." }
            (error_message(view.error))
            @if view.expired {
                p.error role="alert" { "This code has expired. Ask for a new one below." }
            }
            form method="post" action="/verify" {
                (csrf_field(&context.csrf))
                label {
                    "Code"
                    input.code type="text" name="code" required autofocus autocomplete="one-time-code"
                        inputmode="numeric" pattern="[0-9]{6}" maxlength="6" placeholder="123456";
                }
                button type="submit" { "Continue" }
            }
            div.secondary {
                form.inline method="post" action="/verify/resend" {
                    (csrf_field(&context.csrf))
                    button.link type="submit" data-cooldown=(view.resend_wait) { "Send a new code" }
                    @if view.resend_wait > 0 {
                        span.cooldown { " (available in " span.seconds { (view.resend_wait) } " seconds)" }
                    }
                }
                form.inline method="post" action="/verify/cancel" {
                    (csrf_field(&context.csrf))
                    button.link type="submit" { "Cancel" }
                }
            }
            script src="/static/app.js" defer {}
        },
    )
}

/// A page for a pending code that can no longer be used: the only way on is to start over.
fn start_over_page(context: &PageContext, message: &str, start: &str) -> Markup {
    page(
        "Start over",
        context,
        html! {
            h1 { "Let's start over" }
            p.error role="alert" { (message) }
            p { a.button href=(start) { "Start again" } }
        },
    )
}

/// Renders the code page for `pending`, reading the challenge back from the service.
async fn show(
    state: &AppState,
    session: &AppSession,
    context: &PageContext,
    pending: &Pending,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    match state.flows.read(pending).await {
        Ok(challenge) => {
            let view = CodePage {
                flow: &pending.flow,
                // What the person typed, not where the code went: for an account, the code goes
                // to the address as the account has it, and its case would tell that it exists.
                masked_email: pending.flow.email().masked(),
                expired: state.flows.is_expired(&challenge),
                // An expired code is already explained by the `expired` notice.
                error: error.filter(|_| !state.flows.is_expired(&challenge)),
                resend_wait: state.flows.resend_wait(pending),
            };
            html(status, code_page(context, view))
        }
        Err(err @ FlowError::Gone) => {
            session.clear_pending();
            html(StatusCode::BAD_REQUEST, start_over_page(context, &err.to_string(), pending.flow.start_path()))
        }
        Err(err) => html(flow_status(&err), start_over_page(context, &err.to_string(), pending.flow.start_path())),
    }
}

pub async fn code_form(state: web::Data<AppState>, session: AppSession, context: PageContext) -> HttpResponse {
    match session.pending() {
        Some(pending) => show(&state, &session, &context, &pending, StatusCode::OK, None).await,
        None => see_other("/"),
    }
}

pub async fn submit_code(
    CsrfForm(form): CsrfForm<CodeForm>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let Some(mut pending) = session.pending() else {
        return Ok(see_other("/"));
    };
    match state.flows.verify(&mut pending, &form.code).await {
        Ok(Completed::SignedIn(account)) => {
            session.sign_in(account, state.clock.now_ms())?;
            Ok(see_other(&session.take_return_to().unwrap_or_else(|| "/account".into())))
        }
        Ok(Completed::Recovered(account)) => {
            session.start_recovery(state.recovery.grant(account))?;
            Ok(see_other("/recover/passkey"))
        }
        Ok(Completed::EmailChanged(_)) => {
            session.clear_pending();
            session.set_notice("Your email address was changed.")?;
            Ok(see_other("/account"))
        }
        Err(err @ (FlowError::WrongCode(_) | FlowError::Expired)) => {
            session.set_pending(&pending)?;
            Ok(show(&state, &session, &context, &pending, flow_status(&err), Some(&err.to_string())).await)
        }
        Err(err @ (FlowError::Unavailable(_) | FlowError::Storage(_))) => {
            Ok(show(&state, &session, &context, &pending, flow_status(&err), Some(&err.to_string())).await)
        }
        Err(err) => {
            session.clear_pending();
            Ok(html(flow_status(&err), start_over_page(&context, &err.to_string(), pending.flow.start_path())))
        }
    }
}

pub async fn resend(
    _: CsrfForm<NoFields>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let Some(pending) = session.pending() else {
        return Ok(see_other("/"));
    };
    match state.flows.resend(&pending).await {
        Ok(fresh) => {
            session.set_pending(&fresh)?;
            session.set_notice("We sent you a new code. Earlier codes no longer work.")?;
            Ok(see_other("/verify"))
        }
        Err(err) => Ok(show(&state, &session, &context, &pending, flow_status(&err), Some(&err.to_string())).await),
    }
}

pub async fn cancel(
    _: CsrfForm<NoFields>,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, PageError> {
    let Some(pending) = session.pending() else {
        return Ok(see_other("/"));
    };
    session.clear_pending();
    if let Err(err) = state.flows.cancel(&pending).await {
        // The challenge expires by itself; the person should not be stuck on it.
        tracing::warn!(error = %err, "could not delete a cancelled challenge");
    }
    Ok(see_other(pending.flow.start_path()))
}
