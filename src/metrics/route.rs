//! The route pattern a request matched, found once per request. Finding it walks the router's
//! patterns again, and both a request's duration label and its log span need it.

use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;

/// The pattern that matched (`/{tenancyId}/challenges/{challengeId}`), never the path; `None`
/// when no route did.
#[derive(Clone)]
struct MatchedRoute(Option<Rc<str>>);

/// The request's route pattern, from its extensions once a middleware has asked.
pub fn matched_route(req: &ServiceRequest) -> Option<Rc<str>> {
    if let Some(MatchedRoute(route)) = req.extensions().get::<MatchedRoute>() {
        return route.clone();
    }
    let route: Option<Rc<str>> = req.match_pattern().map(Into::into);
    req.extensions_mut().insert(MatchedRoute(route.clone()));
    route
}
