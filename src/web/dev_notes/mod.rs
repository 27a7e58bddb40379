//! The developer notes in the web front, development only: the middleware that opens a notebook
//! around each request and keeps what was recorded in the session, the panel on every page, the
//! page that lists the notes, and the notes of the passkey endpoints. Production mounts none of
//! it (see `startup`), so its pages carry no panel and its sessions no notes.
//!
//! The panel is the same empty frame for every visitor, which the page script fills from
//! `/dev/notes`: the notes name addresses and accounts, and a page must not tell its visitors
//! apart (no enumeration, masked addresses) in development any more than in production.

mod panel;
mod passkeys;

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use webauthn_rs::prelude::Url;

pub use self::panel::panel;
pub use self::passkeys::Credential;
use super::context::PageContext;
use super::layout::page;
use super::response::html;
use super::session::AppSession;
use crate::client::dev_notes::Notebook;
use crate::clock::Clock;

/// Where the notes are listed, and where the panel fetches them from.
const NOTES_PATH: &str = "/dev/notes";

/// What the notes need to know of the app.
#[derive(Clone)]
pub struct DevNotesConfig {
    /// The passkeys' relying party: the origin a credential's client data must name.
    relying_party: Url,
    clock: Clock,
}

impl DevNotesConfig {
    pub fn new(relying_party: Url, clock: Clock) -> Self {
        Self { relying_party, clock }
    }
}

/// The developer notes of a request: on where the notes are mounted (development), off
/// elsewhere, and then nothing records or shows them. An extractor for the handlers that write
/// notes; pages learn from it, through `PageContext`, whether to carry the panel.
#[derive(Clone, Default)]
pub struct DevNotes(Option<web::Data<DevNotesConfig>>);

impl DevNotes {
    pub fn of(req: &HttpRequest) -> Self {
        Self(req.app_data::<web::Data<DevNotesConfig>>().cloned())
    }

    pub fn shown(&self) -> bool {
        self.0.is_some()
    }
}

impl FromRequest for DevNotes {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

/// Mounts the notes page and what the notes need; [`keep_notes`] goes with it.
pub fn mount(cfg: &mut web::ServiceConfig, config: DevNotesConfig) {
    cfg.app_data(web::Data::new(config)).route(NOTES_PATH, web::get().to(list));
}

/// Middleware, inside the session's: opens a notebook for the request, then adds what it
/// recorded to the session's notes.
pub async fn keep_notes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Mounted without the notes page, it would have nothing to keep them for.
    let Some(config) = req.app_data::<web::Data<DevNotesConfig>>().cloned() else {
        return next.call(req).await;
    };
    let session = AppSession::of(&req);
    let notebook = Notebook::new(config.clock.clone());
    let response = notebook.open_during(async move { next.call(req).await }).await?;
    let recorded = notebook.take();
    if !recorded.is_empty() {
        // Read now, not before: signing out has dropped the notes made before it.
        let mut notes = session.dev_notes();
        notes.extend(recorded);
        if let Err(err) = session.set_dev_notes(&notes) {
            tracing::warn!(error = %err, "could not keep the developer notes");
        }
    }
    Ok(response)
}

/// `GET /dev/notes`: this session's notes, newest first, as the panel shows them.
async fn list(session: AppSession, context: PageContext) -> HttpResponse {
    // The page is the list itself: no panel of its own.
    let context = PageContext { dev_notes: DevNotes::default(), ..context };
    html(StatusCode::OK, page("What just happened", &context, panel::notes_page(&session.dev_notes())))
}
