//! The pages of account recovery (its rules are in `accounts::recovery`): ask for a code, then
//! a short recovery session that can do one thing only, enrol a new passkey.

use actix_web::body::EitherBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::AppState;
use super::context::PageContext;
use super::csrf::{CsrfForm, NoFields};
use super::error::PageError;
use super::forms::{EmailForm, csrf_field, email_field, error_message, start_email_flow};
use super::layout::{moment, new_passkey_form, page, passkey_script, passkey_status};
use super::response::{html, see_other};
use super::session::AppSession;
use crate::accounts::flows::Flow;

/// The only paths a recovery session may use: enrolment, signing in with a passkey this device
/// already has instead, and signing out (on a shared device the person must be able to end it);
/// in development, also its own developer notes.
fn allowed_during_recovery(path: &str) -> bool {
    matches!(path, "/recover/passkey" | "/recover/sign-in" | "/passkeys/register" | "/logout" | "/dev/notes")
        || path.starts_with("/passkeys/register/")
        || path.starts_with("/static/")
}

/// Middleware: a recovery session is sent back to the recovery page from everywhere else.
pub async fn confine_recovery(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>, actix_web::Error> {
    let in_recovery = AppSession::of(&req).recovery().is_some();
    if in_recovery && !allowed_during_recovery(req.path()) {
        let (req, _) = req.into_parts();
        return Ok(ServiceResponse::new(req, see_other("/recover/passkey")).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

fn request_page(context: &PageContext, form: &EmailForm, error: Option<&str>) -> Markup {
    page(
        "Recover your account",
        context,
        html! {
            h1 { "Lost your passkey?" }
            p { "Enter your account's email. We'll send a code; with it you can set up a new passkey." }
            (error_message(error))
            form method="post" action="/recover" {
                (csrf_field(&context.csrf))
                (email_field("Email", &form.email))
                button type="submit" { "Send me a code" }
            }
            p { a href="/login" { "Back to sign in" } }
        },
    )
}

pub async fn request_form(session: AppSession, context: PageContext) -> HttpResponse {
    html(StatusCode::OK, request_page(&context, &EmailForm::as_left(&session), None))
}

pub async fn request(
    CsrfForm(form): CsrfForm<EmailForm>,
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let refuse = |status, message: &str| html(status, request_page(&context, &form, Some(message)));
    start_email_flow(&state, &session, &form, |email| Flow::Recovery { email }, refuse).await
}

fn recovery_choices() -> Markup {
    html! {
        label.check { input type="checkbox" name="removeOthers" checked; " Remove all my existing passkeys (recommended if one was lost or stolen)" }
        label.check { input type="checkbox" name="signOutOthers" checked; " Sign out everywhere else" }
    }
}

/// The recovery page: the account's passkeys and the enrolment of a new one.
pub async fn passkey_page(
    state: web::Data<AppState>,
    session: AppSession,
    context: PageContext,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now_ms();
    let grant = match session.recovery() {
        Some(grant) if grant.is_active(now) => grant,
        Some(_) => {
            session.clear_recovery();
            session.set_notice("Your recovery session has expired. Ask for a new code to try again.")?;
            return Ok(see_other("/recover"));
        }
        None => return Ok(see_other("/recover")),
    };
    let passkeys = state.passkeys.store().list(grant.account).await?;
    let minutes_left = grant.minutes_left(now);
    Ok(html(
        StatusCode::OK,
        page(
            "Set up a new passkey",
            &context,
            html! {
                h1 { "Set up a new passkey" }
                p { "Your email is confirmed. Create a passkey on this device to get back into your account. "
                    "This page works for " (minutes_left) @if minutes_left == 1 { " more minute." } @else { " more minutes." } }
                @if passkeys.is_empty() {
                    p { "Your account has no passkeys yet." }
                } @else {
                    p { "Your account's passkeys:" }
                    ul.passkeys {
                        @for p in &passkeys {
                            li {
                                strong { (p.name) }
                                @if let Some(provider) = p.provider_if_not_in_name() { " · " (provider) }
                                " · added " (moment(p.created_at))
                            }
                        }
                    }
                }
                (new_passkey_form(&context.csrf, recovery_choices(), "e.g. My laptop", "Create a passkey"))
                (passkey_status())
                // Shown by the passkey script when this device already holds one of the account's passkeys.
                form method="post" action="/recover/sign-in" hidden data-passkey-sign-in-instead {
                    (csrf_field(&context.csrf))
                    button type="submit" { "Sign in with it" }
                }
                (passkey_script())
            },
        ),
    ))
}

/// Ends the recovery for the login page, when this device already holds one of the account's
/// passkeys: signing in with it is the way back in.
pub async fn sign_in_instead(_: CsrfForm<NoFields>, session: AppSession) -> Result<HttpResponse, PageError> {
    session.clear_recovery();
    session.set_notice("This device already has a passkey for your account: sign in with it.")?;
    Ok(see_other("/login"))
}
