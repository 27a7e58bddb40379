//! `HEAD` answered as `GET` would be, instead of not found: link checkers and uptime monitors ask with it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// Middleware: routes a `HEAD` request as a `GET`. The server still knows it was a `HEAD` and
/// sends the status and headers (with the length the body would have had) but not the body.
pub async fn answer_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
