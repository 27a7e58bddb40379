//! The sample app's web front: server-rendered pages for each flow, over the accounts layer.

mod account;
mod assets;
mod context;
mod csrf;
mod dev_mailbox;
mod entry;
pub mod error;
mod home;
pub mod layout;
mod passkeys;
mod reauth;
pub mod recovery;
mod respond;
pub mod session;
pub mod throttle;
mod verify;

use actix_web::http::StatusCode;
use actix_web::web;
use maud::html;

use std::time::Duration;

use crate::accounts::flows::Flows;
use crate::accounts::session_store::SqliteSessionStore;
use crate::accounts::users::Users;
use crate::clock::Clock;
use crate::mail::DevMailbox;
use crate::passkeys::Passkeys;

/// What the handlers share.
pub struct AppState {
    pub flows: Flows,
    pub users: Users,
    pub passkeys: Passkeys,
    pub sessions: SqliteSessionStore,
    pub clock: Clock,
    pub recovery_ttl: Duration,
}

/// Mounts every page; `/dev/mailbox` only when a development mailbox is given.
pub fn configure(cfg: &mut web::ServiceConfig, dev_mailbox: Option<DevMailbox>) {
    cfg.route("/", web::get().to(home::home))
        .route("/static/app.css", web::get().to(assets::stylesheet))
        .route("/static/app.js", web::get().to(assets::script))
        .route("/static/passkeys.js", web::get().to(assets::passkey_script))
        .route("/signup", web::get().to(entry::signup_form))
        .route("/signup", web::post().to(entry::signup))
        .route("/login", web::get().to(entry::login_form))
        .route("/login", web::post().to(entry::login))
        .route("/verify", web::get().to(verify::code_form))
        .route("/verify", web::post().to(verify::submit_code))
        .route("/verify/resend", web::post().to(verify::resend))
        .route("/verify/cancel", web::post().to(verify::cancel))
        .route("/account", web::get().to(account::show))
        .route("/account/email", web::get().to(account::email_form))
        .route("/account/email", web::post().to(account::change_email))
        .route("/logout", web::post().to(account::logout))
        .route("/reauth", web::get().to(reauth::show))
        .route("/reauth/email", web::post().to(reauth::by_email))
        .route("/recover", web::get().to(recovery::request_form))
        .route("/recover", web::post().to(recovery::request))
        .route("/recover/passkey", web::get().to(recovery::passkey_page))
        .route("/passkeys/register/start", web::post().to(passkeys::register_start))
        .route("/passkeys/register/finish", web::post().to(passkeys::register_finish))
        .route("/passkeys/login/start", web::post().to(passkeys::login_start))
        .route("/passkeys/login/finish", web::post().to(passkeys::login_finish))
        .route("/account/passkeys/{id}/rename", web::post().to(passkeys::rename))
        .route("/account/passkeys/{id}/remove", web::post().to(passkeys::remove));
    if let Some(mailbox) = dev_mailbox {
        cfg.app_data(web::Data::new(mailbox)).route("/dev/mailbox", web::get().to(dev_mailbox::list));
    }
}

pub async fn not_found() -> actix_web::HttpResponse {
    respond::html(
        StatusCode::NOT_FOUND,
        layout::bare_page("Not found", html! { h1 { "Page not found" } p { a href="/" { "Back to the start" } } }),
    )
}
