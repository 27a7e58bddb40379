//! The route pattern a request was answered by, for its duration label and its log line.

use actix_web::Error;
use actix_web::dev::ServiceResponse;

/// The pattern that answered (`/{tenancyId}/challenges/{challengeId}`), never the path. `None`
/// when no route did, and when a middleware failed the request: its error carries no request.
///
/// Asked once the request is answered: the router has then noted which resource it chose, and
/// the pattern is looked up from that. Asked before, it is found by matching the path against
/// every pattern again (regular expressions, about 6% of a get's instructions), and without the
/// method guards, so a `GET` of `/{tenancyId}/challenges/verify` was labelled as a verify.
pub fn answered_route<B>(outcome: &Result<ServiceResponse<B>, Error>) -> Option<String> {
    outcome.as_ref().ok()?.request().match_pattern()
}
