//! The sample app's web front: server-rendered pages for each flow, and the passkey script's
//! JSON endpoints, over the accounts and passkeys layers.

mod account;
mod assets;
pub mod client_ip;
mod code_page;
#[cfg(test)]
mod colour_contrast;
mod context;
pub mod csrf;
mod dev_mailbox;
pub mod dev_notes;
pub mod error;
mod forms;
mod guards;
pub mod head;
mod home;
pub mod layout;
mod login;
mod passkeys;
mod reauth;
pub mod recovery;
mod response;
pub mod session;
pub mod session_trouble;
mod sessions;
mod signup;
pub mod throttle;
mod too_many_requests;

use actix_web::http::StatusCode;
use actix_web::middleware::Compress;
use actix_web::web;
use maud::html;

use self::dev_notes::DevNotesConfig;
use crate::accounts::deletion::AccountDeletion;
use crate::accounts::flows::Flows;
use crate::accounts::recovery::Recovery;
use crate::accounts::session_store::DbSessionStore;
use crate::accounts::users::Users;
use crate::clock::Clock;
use crate::mail::DevMailbox;
use crate::passkeys::Passkeys;

/// What the handlers share.
pub struct AppState {
    pub flows: Flows,
    pub recovery: Recovery,
    pub deletion: AccountDeletion,
    pub users: Users,
    pub passkeys: Passkeys,
    /// The session store the session middleware uses too, for the account page's list of sessions.
    pub sessions: DbSessionStore,
    pub clock: Clock,
}

/// Mounts every page; `/dev/mailbox` only when a development mailbox is given, and the
/// developer notes only with their config.
pub fn configure(cfg: &mut web::ServiceConfig, dev_mailbox: Option<DevMailbox>, dev_notes: Option<DevNotesConfig>) {
    cfg.route("/", web::get().to(home::home))
        // Compressed here only: pages carry the CSRF token beside what people typed, which
        // compression would let an attacker guess (BREACH); they are small and never cached anyway.
        .service(web::scope("/static").wrap(Compress::default()).route("/{file}", web::get().to(assets::serve)))
        .route("/signup", web::get().to(signup::form))
        .route("/signup", web::post().to(signup::submit))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/verify", web::get().to(code_page::code_form))
        .route("/verify", web::post().to(code_page::submit_code))
        .route("/verify/resend", web::post().to(code_page::resend))
        .route("/verify/cancel", web::post().to(code_page::cancel))
        .route("/account", web::get().to(account::show))
        .route("/account/email", web::get().to(account::email_form))
        .route("/account/email", web::post().to(account::change_email))
        .route("/account/name", web::post().to(account::rename))
        .route("/account/delete", web::get().to(account::deletion_form))
        .route("/account/delete", web::post().to(account::delete))
        .route("/account/sessions/sign-out-others", web::post().to(sessions::sign_out_others))
        .route("/account/sessions/{id}/sign-out", web::post().to(sessions::sign_out_one))
        .route("/logout", web::post().to(account::logout))
        .route("/reauth", web::get().to(reauth::show))
        .route("/reauth/email", web::post().to(reauth::by_email))
        .route("/reauth/cancel", web::post().to(reauth::cancel))
        .route("/recover", web::get().to(recovery::request_form))
        .route("/recover", web::post().to(recovery::request))
        .route("/recover/passkey", web::get().to(recovery::passkey_page))
        .route("/recover/sign-in", web::post().to(recovery::sign_in_instead))
        .route("/passkeys/register", web::post().to(passkeys::register_without_script))
        .route("/passkeys/register/start", web::post().to(passkeys::register_start))
        .route("/passkeys/register/finish", web::post().to(passkeys::register_finish))
        .route("/passkeys/login/start", web::post().to(passkeys::login_start))
        .route("/passkeys/login/finish", web::post().to(passkeys::login_finish))
        .route("/account/passkeys/{id}/rename", web::post().to(passkeys::rename))
        .route("/account/passkeys/{id}/remove", web::get().to(passkeys::removal_form))
        .route("/account/passkeys/{id}/remove", web::post().to(passkeys::remove));
    if let Some(mailbox) = dev_mailbox {
        cfg.app_data(web::Data::new(mailbox)).route("/dev/mailbox", web::get().to(dev_mailbox::list));
    }
    if let Some(config) = dev_notes {
        dev_notes::mount(cfg, config);
    }
}

pub async fn not_found() -> actix_web::HttpResponse {
    response::html(
        StatusCode::NOT_FOUND,
        layout::bare_page("Not found", html! { h1 { "Page not found" } p { a href="/" { "Back to the start" } } }),
    )
}
