//! CSRF protection. Every form carries the token of a signed double-submit cookie: random,
//! signed with a server key, sent back in the form (or the `X-CSRF-Token` header), and compared
//! with the cookie, which another site can neither read nor, with the `__Host-` name used over
//! HTTPS, set. It needs no session, so a page viewed without one stores nothing on the server.
//!
//! `CsrfForm<T>` (a URL-encoded form with a `csrf` field) and `CsrfJson<T>` (a JSON body) are
//! only handed to a handler after the token was checked, so no handler can forget it.

use std::cell::Cell;
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{JsonError, PageError};
use crate::domain::{constant_time_eq, hmac_sha256, random_token};

/// How the CSRF cookie is signed and named.
#[derive(Clone)]
pub struct CsrfCookies {
    key: Vec<u8>,
    secure: bool,
}

impl CsrfCookies {
    /// Signs with a key derived from the session key; `secure` for HTTPS.
    pub fn new(session_key: &[u8], secure: bool) -> Self {
        Self { key: hmac_sha256(session_key, &[b"csrf-cookie"]), secure }
    }

    /// Over HTTPS the `__Host-` prefix makes browsers refuse the cookie from any subdomain.
    fn name(&self) -> &'static str {
        if self.secure { "__Host-csrf" } else { "csrf" }
    }

    /// `nonce.signature`.
    fn fresh(&self) -> String {
        let nonce = random_token(18);
        let signature = self.sign(&nonce);
        format!("{nonce}.{signature}")
    }

    fn sign(&self, nonce: &str) -> String {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            hmac_sha256(&self.key, &[nonce.as_bytes()]),
        )
    }

    fn is_genuine(&self, token: &str) -> bool {
        token
            .split_once('.')
            .is_some_and(|(nonce, signature)| constant_time_eq(self.sign(nonce).as_bytes(), signature.as_bytes()))
    }
}

/// This request's token: the cookie's if it is genuine, otherwise a fresh one that the response
/// sets as the cookie if a page put it in a form.
#[derive(Clone)]
struct RequestToken {
    value: String,
    from_cookie: bool,
    handed_out: Rc<Cell<bool>>,
    renewal: Renewal,
}

/// Asks for a new token in this response's cookie, as signing in does: a token someone learnt
/// or planted before is then worth nothing.
#[derive(Clone, Default)]
pub struct Renewal(Rc<Cell<bool>>);

impl Renewal {
    /// The renewal of this request's token, if the CSRF middleware gave it one.
    pub fn of(req: &impl HttpMessage) -> Self {
        req.extensions().get::<RequestToken>().map(|token| token.renewal.clone()).unwrap_or_default()
    }

    pub fn renew(&self) {
        self.0.set(true);
    }
}

/// `from_fn` middleware, with [`CsrfCookies`] in app data: gives every request its token.
pub async fn issue_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(cookies) = req.app_data::<web::Data<CsrfCookies>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("the CSRF cookies are not configured"));
    };
    let genuine = req.cookie(cookies.name()).map(|c| c.value().to_owned()).filter(|t| cookies.is_genuine(t));
    let token = RequestToken {
        from_cookie: genuine.is_some(),
        value: genuine.unwrap_or_else(|| cookies.fresh()),
        handed_out: Rc::default(),
        renewal: Renewal::default(),
    };
    req.extensions_mut().insert(token.clone());
    let mut response = next.call(req).await?;
    let value = match (token.renewal.0.get(), token.from_cookie, token.handed_out.get()) {
        (true, _, _) => Some(cookies.fresh()),
        (false, false, true) => Some(token.value),
        _ => None,
    };
    if let Some(value) = value {
        let cookie = Cookie::build(cookies.name(), value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(cookies.secure)
            .finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response)
}

/// The token for the forms of the page being built.
pub fn page_token(req: &HttpRequest) -> Result<String, PageError> {
    let extensions = req.extensions();
    let token = extensions
        .get::<RequestToken>()
        .ok_or_else(|| PageError::Unexpected(anyhow::anyhow!("the CSRF middleware is not mounted")))?;
    token.handed_out.set(true);
    Ok(token.value.clone())
}

/// Whether `given` is the token of the request's genuine cookie.
fn token_matches(req: &HttpRequest, given: &str) -> bool {
    req.extensions()
        .get::<RequestToken>()
        .is_some_and(|token| token.from_cookie && constant_time_eq(token.value.as_bytes(), given.as_bytes()))
}

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
        let req = req.clone();
        Box::pin(async move {
            let form = form.await.map_err(|e| PageError::BadForm(e.to_string()))?.into_inner();
            if !token_matches(&req, &form.csrf) {
                return Err(PageError::Csrf);
            }
            Ok(Self(form.fields))
        })
    }
}

/// A JSON body handed over only after the `X-CSRF-Token` header matched the cookie's token.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfJson<T> {
    type Error = JsonError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<T>::from_request(req, payload);
        let token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token_matches = token_matches(req, token);
        Box::pin(async move {
            if !token_matches {
                return Err(JsonError::Csrf);
            }
            let body = body.await.map_err(|e| JsonError::BadBody(e.to_string()))?;
            Ok(Self(body.into_inner()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_signed_with_the_key_are_genuine() {
        let cookies = CsrfCookies::new(b"a session key", false);
        let token = cookies.fresh();
        assert!(cookies.is_genuine(&token));
        assert!(!CsrfCookies::new(b"another key", false).is_genuine(&token));
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!cookies.is_genuine(&format!("{nonce}.forged")));
        assert!(!cookies.is_genuine(nonce));
        assert_ne!(cookies.fresh(), token);
    }
}
