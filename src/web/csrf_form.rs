//! `CsrfForm<T>`: a URL-encoded form that is only handed to a handler after its CSRF token was
//! checked against the session, so no state-changing handler can forget the check.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::AppError;
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
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<WithToken<T>>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await.map_err(|e| AppError::BadForm(e.to_string()))?.into_inner();
            let session = AppSession::extract(&req).await?;
            session.check_csrf(&form.csrf)?;
            Ok(Self(form.fields))
        })
    }
}
