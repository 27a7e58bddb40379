//! One log line per request as it is answered, in the request's span: with its request id,
//! method, route pattern, client address and status, in plain text or JSON alike.
//!
//! The span carries only those. tracing-actix-web's default span adds the target, host, user
//! agent, HTTP version, scheme and OpenTelemetry names: the target is the raw path and query,
//! which can hold an email address (`/dev/mailbox?to=…`), and formatting the dozen fields cost
//! every request more than the rest of its log line.
//!
//! The client address is the one the throttle counts: the TCP peer, or the address a trusted
//! proxy names (`APP_TRUSTED_PROXIES`; the challenge API trusts none). Never the forwarding
//! header of anyone else: a client could then write any address, or text that reads as more
//! fields (`1.2.3.4 request_id=…`), into the lines about its requests.

use std::net::IpAddr;

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::web;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::metrics::matched_route;
use crate::web::client_ip::TrustedProxies;

/// A lean root span for tracing-actix-web, and a line at its end.
pub struct RequestLog;

impl RootSpanBuilder for RequestLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        let route = matched_route(request);
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route.as_deref().unwrap_or("(no route)"),
            http.client_ip = %client(request),
            request_id = request_id.map(tracing::field::display),
            http.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Records the status, and an error's message and details, into the fields above.
        DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        span.in_scope(|| tracing::info!("request answered"));
    }
}

/// The request's client, as an address: never text the client wrote.
fn client(request: &ServiceRequest) -> IpAddr {
    let (peer, headers) = (request.peer_addr(), request.headers());
    match request.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client(peer, headers),
        None => TrustedProxies::default().client(peer, headers),
    }
}
