//! One log line per request as it is answered, in the request's span: with its request id,
//! method, route pattern, client address and status, in plain text or JSON alike.
//!
//! The span carries only those. tracing-actix-web's default span adds the target, host, user
//! agent, HTTP version, scheme and OpenTelemetry names: the target is the raw path and query,
//! which can hold an email address (`/dev/mailbox?to=…`), and formatting the dozen fields cost
//! every request more than the rest of its log line.

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::metrics::matched_route;

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
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
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
