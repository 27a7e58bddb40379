//! The sample app's HTTP server and the API's: listeners, middleware, headers.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Payload, Server, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::{Condition, DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use futures_util::StreamExt;

use super::health::{self, Readiness};
use super::request_log::log_requests;
use crate::accounts::session_store::DbSessionStore;
use crate::challenges::{ChallengeService, api};
use crate::mail::DevMailbox;
use crate::metrics::{self, RequestTimer};
use crate::web::client_ip::TrustedProxies;
use crate::web::csrf::{self, CsrfCookies};
use crate::web::dev_notes::{self, DevNotesConfig};
use crate::web::session_trouble::{self, NotingUnavailable};
use crate::web::throttle::{self, Throttle};
use crate::web::{self as site, AppState, head, recovery};

/// How long a client has to send a request's head (line and headers) from the time it connects
/// (between requests on a kept-alive connection, [`KEEP_ALIVE`] applies). A client sending headers
/// a byte a second is cut off after this; real requests take milliseconds. (actix-web's default.)
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request's whole body may take to arrive. actix-web bounds only the head, so without
/// this a body that never finishes holds its connection and its handler forever. The largest
/// body either listener reads is 64 KiB, which this allows at about 50 kbit/s, a poor mobile link.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection stays open. Longer than the 60 s idle timeout of common
/// load balancers, so that they close first and never send a request down a connection the
/// server is closing; an idle connection costs a socket and a few KiB.
pub const KEEP_ALIVE: Duration = Duration::from_secs(75);
/// How long the server waits for the client to close once it has closed its side.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Open connections one worker thread holds at most (there is one worker per CPU core); beyond it
/// the worker stops accepting until one closes, and new connections wait in the listen backlog.
/// Each connection is a file descriptor: with `ulimit -n` below the cap, the descriptors run out
/// first, and actix-web pauses accepting then too. (actix-web's default is 25,000.)
/// `max_connection_rate` is left at its default: it bounds TLS handshakes, and neither listener
/// speaks TLS (a proxy in front does).
pub const MAX_CONNECTIONS_PER_WORKER: usize = 10_000;

/// What the app's server is built from.
pub struct Site {
    pub state: web::Data<AppState>,
    pub dev_mailbox: Option<DevMailbox>,
    /// Development only: with it, every page carries the developer notes panel.
    pub dev_notes: Option<DevNotesConfig>,
    pub sessions: DbSessionStore,
    pub session_key: Key,
    pub secure_cookies: bool,
    pub throttle: web::Data<Throttle>,
    /// Whose forwarding header names the client, for the request log (the throttle has its own).
    pub trusted_proxies: web::Data<TrustedProxies>,
    pub csrf_cookies: web::Data<CsrfCookies>,
    pub readiness: Readiness,
    pub request_timer: RequestTimer,
}

/// `grace`: how long requests in flight may take to finish once the server is stopped.
pub fn serve_app(addr: SocketAddr, site: Site, grace: Duration) -> anyhow::Result<(SocketAddr, Server)> {
    let listener = TcpListener::bind(addr).with_context(|| format!("could not listen on APP_ADDR {addr}"))?;
    let bound = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(NotingUnavailable(site.sessions.clone()), site.session_key.clone())
            .cookie_name("session".into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(site.secure_cookies)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(BrowserSession::default())
            .build();
        let notes_config = site.dev_notes.clone();
        App::new()
            .app_data(site.state.clone())
            .app_data(site.throttle.clone())
            .app_data(site.trusted_proxies.clone())
            .app_data(site.csrf_cookies.clone())
            // A WebAuthn credential is a few KiB; nothing the app reads needs more.
            .app_data(web::JsonConfig::default().limit(64 * 1024))
            // Innermost, inside the session's: each request's notes join the session before it is saved.
            .wrap(Condition::new(notes_config.is_some(), from_fn(dev_notes::keep_notes)))
            .wrap(from_fn(recovery::confine_recovery))
            .wrap(from_fn(csrf::issue_token))
            .wrap(from_fn(throttle::limit_posts))
            .wrap(sessions)
            .wrap(from_fn(session_trouble::answer_unavailable))
            .wrap(from_fn(head::answer_as_get))
            .wrap(security_headers(site.secure_cookies))
            // One span per request, with a request id, around everything logged in it.
            .wrap(from_fn(log_requests))
            .wrap(from_fn(bound_body_read))
            // Outermost: the time of everything.
            .wrap(from_fn(metrics::time_requests))
            .configure(|cfg| site.request_timer.configure(cfg))
            .configure(|cfg| health::configure(cfg, site.readiness.clone()))
            .configure(|cfg| site::configure(cfg, site.dev_mailbox.clone(), notes_config))
            .default_service(web::to(site::not_found))
    })
    .client_request_timeout(HEADER_READ_TIMEOUT)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .max_connections(MAX_CONNECTIONS_PER_WORKER)
    .listen(listener)?
    // Application::run_until stops the servers: at a signal, and only then.
    .disable_signals()
    .shutdown_timeout(grace.as_secs())
    .run();
    Ok((bound, server))
}

/// Gives the request's body [`BODY_READ_TIMEOUT`] to arrive, counted from its head: after it, the
/// handler reading the body gets an error (the API answers 400, as for any unreadable body).
async fn bound_body_read(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        req.set_payload(payload);
        return next.call(req).await;
    }
    let deadline = tokio::time::Instant::now() + BODY_READ_TIMEOUT;
    let bounded = futures_util::stream::unfold(Some(payload), move |payload| async move {
        let mut payload = payload?;
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                let late = io::Error::new(io::ErrorKind::TimedOut, "the body did not arrive in time");
                Some((Err(PayloadError::Io(late)), None))
            }
        }
    });
    let bounded: Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, PayloadError>>>> = Box::pin(bounded);
    req.set_payload(Payload::from(bounded));
    next.call(req).await
}

/// Headers that keep the pages from being framed, sniffed, cached or leaking where they were;
/// over HTTPS, browsers are also told to never use plain HTTP for this site.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        // Pages show codes, addresses and passkeys; the static assets set their own policy.
        .add(("Cache-Control", "no-store"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ));
    if https { headers.add(("Strict-Transport-Security", "max-age=31536000")) } else { headers }
}

/// `metrics`: with `METRICS=true`, `/metrics` is served. `grace`: as for [`serve_app`].
pub fn serve_api(
    addr: SocketAddr,
    service: ChallengeService,
    readiness: Readiness,
    request_timer: RequestTimer,
    metrics: Option<metrics::Endpoint>,
    grace: Duration,
) -> anyhow::Result<(SocketAddr, Server)> {
    let listener = TcpListener::bind(addr).with_context(|| format!("could not listen on CHALLENGE_API_ADDR {addr}"))?;
    let bound = listener.local_addr()?;
    let data = web::Data::new(service);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(from_fn(bound_body_read))
            .wrap(from_fn(log_requests))
            .wrap(from_fn(metrics::time_requests))
            .configure(|cfg| request_timer.configure(cfg))
            .configure(|cfg| {
                if let Some(endpoint) = &metrics {
                    endpoint.configure(cfg);
                }
            })
            .configure(|cfg| health::configure(cfg, readiness.clone()))
            .configure(api::configure)
            .default_service(web::to(api::unknown_route))
    })
    .client_request_timeout(HEADER_READ_TIMEOUT)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .max_connections(MAX_CONNECTIONS_PER_WORKER)
    .listen(listener)?
    // Application::run_until stops the servers: at a signal, and only then.
    .disable_signals()
    .shutdown_timeout(grace.as_secs())
    .run();
    Ok((bound, server))
}
