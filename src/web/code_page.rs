//! The code page every flow shares: enter the code, ask for a new one, or cancel. It is rebuilt
//! from the session and the service on every load, so a reload or a new tab restores it. A code
//! entered is answered with a redirect to it (post/redirect/get), so a reload never enters the
//! code again.

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
use super::reauth::continue_after_sign_in;
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::{Completed, Flow, FlowError, Pending};
use crate::domain::EmailAddress;

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

const EXPIRED: &str = "This code has expired; send a new one.";

/// Six digits, with the spaces and hyphens people group them with (the server drops those).
const CODE_PATTERN: &str = r"[\s\-]*(\d[\s\-]*){6}";

fn heading(flow: &Flow) -> &'static str {
    match flow {
        Flow::Signup { .. } => "Confirm your email",
        Flow::Login { .. } => "Enter your sign-in code",
        Flow::EmailChange { .. } => "Confirm your new email",
        Flow::Recovery { .. } => "Enter your recovery code",
    }
}

/// What went wrong, shown above the form.
#[derive(Clone, Copy)]
enum Problem<'a> {
    /// The code entered was refused. Once the code has expired, the page says so by itself.
    CodeRefused(&'a str),
    /// A new code was refused for now, so the one sent before is the one to use.
    ResendRefused(&'a str),
    /// Anything else, shown as it is.
    Failed(&'a str),
}

impl Problem<'_> {
    /// The words to show for a code that has `expired` or not; none when the page's own
    /// expiry notice says it all.
    fn text(self, expired: bool) -> Option<String> {
        match self {
            Self::CodeRefused(_) if expired => None,
            Self::ResendRefused(message) if !expired => Some(format!("{message} The code we sent before still works.")),
            Self::CodeRefused(message) | Self::ResendRefused(message) | Self::Failed(message) => {
                Some(message.to_owned())
            }
        }
    }
}

/// How one answer shows the code page, besides what the session and the service say.
struct Showing<'a> {
    status: StatusCode,
    problem: Option<Problem<'a>>,
    /// Right after the form the address is shown as typed, so that a typo can be seen; on
    /// later loads it is masked.
    address_in_full: bool,
}

impl<'a> Showing<'a> {
    /// The page again, as the answer to a form that did not go through.
    fn refused(status: StatusCode, problem: Problem<'a>) -> Self {
        Self { status, problem: Some(problem), address_in_full: false }
    }
}

/// What the code page shows besides the form.
struct CodePage<'a> {
    flow: &'a Flow,
    address: String,
    /// Seconds until the code expires; none once it has.
    expires_in: Option<u64>,
    resend_wait: u64,
    error: Option<String>,
}

fn code_page(context: &PageContext, view: CodePage<'_>) -> Markup {
    page(
        heading(view.flow),
        context,
        html! {
            h1 { (heading(view.flow)) }
            p { "We sent a 6-digit code to " strong.mailbox { (view.address) } ". It may take a minute to arrive." }
            (error_message(view.error.as_deref()))
            @if view.expires_in.is_none() {
                p.error role="alert" { (EXPIRED) }
            }
            // app.js says the code has expired when the time is up, before a submit would.
            form method="post" action="/verify" data-expires-in=[view.expires_in]
                data-expired-message=[view.expires_in.map(|_| EXPIRED)] {
                (csrf_field(&context.csrf))
                label {
                    "Code"
                    input.code type="text" name="code" required autofocus autocomplete="one-time-code"
                        inputmode="numeric" pattern=(CODE_PATTERN) title="The 6 digits from the email"
                        placeholder="123456";
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

/// The start-over page for `flow`; the form "Start again" leads to will have the address typed.
fn start_over(
    session: &AppSession,
    context: &PageContext,
    flow: &Flow,
    status: StatusCode,
    err: &FlowError,
) -> Result<HttpResponse, PageError> {
    session.keep_typed_email(flow.email())?;
    Ok(html(status, start_over_page(context, &err.to_string(), flow.start_path())))
}

/// The address the code page names. What the person typed, not where the code went: for an
/// account, the code goes to the address as the account has it, and its case would tell that
/// it exists.
fn shown_address(typed: &EmailAddress, in_full: bool) -> String {
    if in_full { typed.as_str().to_owned() } else { typed.masked() }
}

/// Renders the code page for `pending`, reading the challenge back from the service.
async fn show(
    state: &AppState,
    session: &AppSession,
    context: &PageContext,
    pending: &Pending,
    showing: Showing<'_>,
) -> Result<HttpResponse, PageError> {
    match state.flows.read(pending).await {
        Ok(challenge) => {
            let seconds_to_expiry = state.flows.seconds_to_expiry(&challenge);
            let expired = seconds_to_expiry == 0;
            let view = CodePage {
                flow: &pending.flow,
                address: shown_address(pending.flow.email(), showing.address_in_full),
                expires_in: (!expired).then_some(seconds_to_expiry),
                error: showing.problem.and_then(|problem| problem.text(expired)),
                resend_wait: state.flows.resend_wait(pending),
            };
            Ok(html(showing.status, code_page(context, view)))
        }
        Err(err) => {
            if matches!(err, FlowError::Gone) {
                session.clear_pending();
            }
            start_over(session, context, &pending.flow, flow_status(&err), &err)
        }
    }
}

pub async fn code_form(
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let Some(pending) = session.pending() else {
        return Ok(see_other("/"));
    };
    let error = session.take_code_error();
    let showing = Showing {
        status: StatusCode::OK,
        problem: error.as_deref().map(Problem::CodeRefused),
        address_in_full: session.take_address_in_full(),
    };
    show(&state, &session, &context, &pending, showing).await
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
            if let Flow::Signup { name, .. } = &pending.flow {
                session.set_notice(&format!("Welcome, {name}. Your account is ready."))?;
            }
            Ok(see_other(continue_after_sign_in(&state, &session, account).await?))
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
            session.set_code_error(&err.to_string())?;
            Ok(see_other("/verify"))
        }
        Err(err @ (FlowError::Unavailable(_) | FlowError::Storage(_))) => {
            let message = err.to_string();
            show(&state, &session, &context, &pending, Showing::refused(flow_status(&err), Problem::Failed(&message)))
                .await
        }
        Err(err) => {
            session.clear_pending();
            start_over(&session, &context, &pending.flow, flow_status(&err), &err)
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
        Err(err) => {
            let message = err.to_string();
            let problem = match err {
                FlowError::RateLimited { .. } => Problem::ResendRefused(&message),
                _ => Problem::Failed(&message),
            };
            show(&state, &session, &context, &pending, Showing::refused(flow_status(&err), problem)).await
        }
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
    session.keep_typed_email(pending.flow.email())?;
    if let Err(err) = state.flows.cancel(&pending).await {
        // The challenge expires by itself; the person should not be stuck on it.
        tracing::warn!(error = %err, "could not delete a cancelled challenge");
    }
    Ok(see_other(pending.flow.start_path()))
}
