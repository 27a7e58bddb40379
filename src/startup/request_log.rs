//! One log line per request as it is answered: its method, route pattern, client address and
//! status, in a span that carries only the request's id, so that everything logged while the
//! request runs names it too, in plain text or JSON alike.
//!
//! The line's fields are written once, as it is logged; the span holds only the id, since a
//! span's fields are formatted as it is made and again whenever one is recorded. The route is
//! the pattern, never the raw path and query, which can hold an email address
//! (`/dev/mailbox?to=…`).
//!
//! The client address is the one the throttle counts: the TCP peer, or the address a trusted
//! proxy names (`APP_TRUSTED_PROXIES`; the challenge API trusts none). Never the forwarding
//! header of anyone else: a client could then write any address, or text that reads as more
//! fields (`1.2.3.4 request_id=…`), into the lines about its requests.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use tracing::Instrument;

use crate::metrics::answered_route;
use crate::web::client_ip::TrustedProxies;

/// Runs the request in its span and logs the line once it is answered.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let span = tracing::info_span!("HTTP request", request_id = %request_id);
    if span.is_disabled() {
        return next.call(req).await;
    }
    let method = req.method().clone();
    let client = client(&req);
    let outcome = next.call(req).instrument(span.clone()).await;
    let route = answered_route(&outcome);
    let (status, error): (_, Option<&dyn ResponseError>) = match &outcome {
        Ok(response) => (response.status(), response.response().error().map(Error::as_response_error)),
        Err(error) => (error.as_response_error().status_code(), Some(error.as_response_error())),
    };
    // An error's message can quote what the client sent (serde's "unknown variant" does): the
    // text log's field formatter escapes any line break in it.
    let message = error.map(ToString::to_string);
    let details = error.map(|error| format!("{error:?}"));
    span.in_scope(|| {
        tracing::info!(
            http.method = %method,
            http.route = %route.as_deref().unwrap_or("(no route)"),
            http.client_ip = %client,
            http.status_code = status.as_u16(),
            exception.message = message.as_deref().map(display),
            exception.details = details.as_deref().map(display),
            "request answered"
        );
    });
    outcome
}

/// The request's client, as an address: never text the client wrote.
fn client(request: &ServiceRequest) -> IpAddr {
    let (peer, headers) = (request.peer_addr(), request.headers());
    match request.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client(peer, headers),
        None => TrustedProxies::default().client(peer, headers),
    }
}
