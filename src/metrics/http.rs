//! How long each request took, by listener, method, route pattern and status. The route is the
//! pattern that matched (`/{tenancyId}/challenges/{challengeId}`), never the path, and methods
//! outside the standard ones count as `OTHER`: nothing a client sends can add a label value.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// From a millisecond to ten seconds.
const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    listener: &'static str,
    method: &'static str,
    route: String,
    status: u16,
}

/// The request-duration histograms of every listener.
#[derive(Clone)]
pub(super) struct RequestDurations(Family<Request, Histogram, fn() -> Histogram>);

impl Default for RequestDurations {
    fn default() -> Self {
        Self(Family::new_with_constructor(|| Histogram::new(BUCKETS)))
    }
}

impl RequestDurations {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request, until its response started",
            Unit::Seconds,
            self.0.clone(),
        );
    }

    /// What the server of `listener` records its requests with.
    pub(super) fn timer(&self, listener: &'static str) -> RequestTimer {
        RequestTimer { durations: self.clone(), listener }
    }
}

/// The histograms, and the listener whose server's [`time_requests`] records them.
#[derive(Clone)]
pub struct RequestTimer {
    durations: RequestDurations,
    listener: &'static str,
}

impl RequestTimer {
    /// Gives [`time_requests`] this timer on the server `cfg` configures.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone()));
    }
}

/// Middleware: records each request's duration with the [`RequestTimer`] of its server.
pub async fn time_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(timer) = req.app_data::<web::Data<RequestTimer>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = known_method(req.method());
    let answered = next.call(req).await;
    let route = super::answered_route(&answered).unwrap_or_else(|| "unmatched".to_owned());
    let status = match &answered {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    let labels = Request { listener: timer.listener, method, route, status: status.as_u16() };
    timer.durations.0.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    answered
}

fn known_method(method: &Method) -> &'static str {
    let known = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    known.into_iter().find(|(known, _)| known == method).map_or("OTHER", |(_, name)| name)
}
