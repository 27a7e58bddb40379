//! CSRF protection as extractors: `CsrfForm<T>` (a URL-encoded form with a `csrf` field) and
//! `CsrfJson<T>` (a JSON body with an `X-CSRF-Token` header) are only handed to a handler after
//! the token was checked against the session, so no state-changing handler can forget it.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{JsonError, PageError};
use super::session::AppSession;

#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

pub struct CsrfForm<T>(pub T);

/// For forms that are only a button.
#[derive(Deserialize)]
pub struct NoFields {}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<WithToken<T>>::from_request(req, payload);
        let session = AppSession::of(req);
        Box::pin(async move {
            let form = form.await.map_err(|e| PageError::BadForm(e.to_string()))?.into_inner();
            if !session.csrf_matches(&form.csrf) {
                return Err(PageError::Csrf);
            }
            Ok(Self(form.fields))
        })
    }
}

/// A JSON body handed over only after the `X-CSRF-Token` header matched the session's token.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfJson<T> {
    type Error = JsonError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<T>::from_request(req, payload);
        let token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token_matches = AppSession::of(req).csrf_matches(token);
        Box::pin(async move {
            if !token_matches {
                return Err(JsonError::Csrf);
            }
            let body = body.await.map_err(|e| JsonError::BadBody(e.to_string()))?;
            Ok(Self(body.into_inner()))
        })
    }
}
