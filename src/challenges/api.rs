//! The REST API, wire-compatible with the hosted service: create, get, verify and delete at the
//! root of the listener and again under `/v2/`.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::engine::ChallengeService;
use super::error::{ChallengeError, UNAVAILABLE_RETRY_SECONDS};
use super::model::{
    ChallengeId, Code, CreatedChallenge, Metadata, NewChallenge, Purpose, RecipientName, Secret, UserId,
};
use super::openapi;
use super::tenancy::AuthorizedTenancy;
use super::wire::{ErrorTag, Nothing, Tagged, WireError, Wrapped, tag};
use crate::domain::{EmailAddress, InvalidInput};

/// Larger bodies are refused before they are read in full.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

impl ResponseError for ChallengeError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InvalidChallenge
            | Self::InvalidChallengeCode
            | Self::ChallengeExpired
            | Self::ChallengeAttemptsExceeded
            | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Storage(_) if self.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Mail(_) | Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let Some(tag) = self.tag() else {
            // Logged here with its cause, shown to the client without it.
            tracing::error!(error = ?self, "challenge service failed");
            if self.is_unavailable() {
                return response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECONDS.to_string())).json(
                    json!({
                        "message": format!(
                            "The challenge service cannot use its database right now. \
                             Try again in {UNAVAILABLE_RETRY_SECONDS} seconds."
                        )
                    }),
                );
            }
            return response.json(json!({ "message": "The challenge service failed. Try again later." }));
        };
        let retry_after_seconds = match self {
            Self::RateLimited { retry_after_seconds } => Some(*retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after_seconds {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(WireError { tag: tag.as_str().to_owned(), message: self.to_string(), retry_after_seconds })
    }
}

/// Where the routes are mounted: the root and `/v2/`. The official client builds URLs from the
/// root of its endpoint, so the routes cannot sit under a prefix of their own.
pub const PREFIXES: [&str; 2] = ["", "/v2"];
/// Create (POST).
pub const CHALLENGES: &str = "/{tenancyId}/challenges";
/// Verify (POST).
pub const VERIFY: &str = "/{tenancyId}/challenges/verify";
/// Get and delete.
pub const CHALLENGE: &str = "/{tenancyId}/challenges/{challengeId}";
/// The API's OpenAPI document, served without authentication.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Mounts the API's routes under each of [`PREFIXES`], and its OpenAPI document.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(OPENAPI_PATH, web::get().to(openapi::serve));
    for prefix in PREFIXES {
        cfg.route(&format!("{prefix}{CHALLENGES}"), web::post().to(create))
            .route(&format!("{prefix}{VERIFY}"), web::post().to(verify))
            .route(&format!("{prefix}{CHALLENGE}"), web::get().to(get))
            .route(&format!("{prefix}{CHALLENGE}"), web::delete().to(delete));
    }
}

/// The answer for a path that is none of the API's routes.
pub async fn unknown_route() -> HttpResponse {
    HttpResponse::NotFound().json(WireError {
        tag: ErrorTag::NotFound.as_str().to_owned(),
        message: "No such endpoint. The API serves /{tenancyId}/challenges, /{tenancyId}/challenges/verify and /{tenancyId}/challenges/{challengeId}.".to_owned(),
        retry_after_seconds: None,
    })
}

async fn authorize(service: &ChallengeService, req: &HttpRequest) -> Result<AuthorizedTenancy, ChallengeError> {
    let tenancy_id = req.match_info().get("tenancyId").unwrap_or_default();
    let api_key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ChallengeError::Forbidden)?;
    service.tenancies().authenticate(tenancy_id, api_key).await
}

/// Reads a JSON body into `T`, naming the offending field when it does not fit.
fn parse_json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ChallengeError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ChallengeError::BadRequest("Content-Type must be application/json with a JSON object body".into()));
    }
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ChallengeError::BadRequest(
            "invalid JSON body: expected a JSON object with the fields of this call".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if inner.is_eof() || inner.is_syntax() {
            format!("invalid JSON body: {inner}")
        } else {
            let wrong = without_sent_value(&inner.to_string());
            if path == "." { wrong } else { format!("{path}: {wrong}") }
        };
        ChallengeError::BadRequest(message)
    })?;
    de.end().map_err(|err| ChallengeError::BadRequest(format!("invalid JSON body: {err}")))?;
    Ok(value)
}

/// serde's "invalid type: integer `123456`, expected a string" quotes what the client sent,
/// which may be a code or a secret of the wrong type, and the error's message is logged: only
/// the value's kind is kept ("invalid type: integer, expected a string").
fn without_sent_value(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return format!("{prefix}{}", unexpected_kind_only(rest));
        }
    }
    message.to_owned()
}

/// `rest` starts with serde's `Unexpected`: `string "…"` (escaped as Rust debug-prints it), or a
/// kind and its value in backticks (`boolean`, `integer`, `floating point`, `character`), or a
/// kind alone (`map`, `sequence`, …), then `, expected …`.
fn unexpected_kind_only(rest: &str) -> String {
    if let Some(quoted) = rest.strip_prefix("string \"") {
        let mut escaped = false;
        for (at, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return format!("string{}", &quoted[at + 1..]),
                _ => {}
            }
        }
        return "string".to_owned();
    }
    if let Some(tick) = rest.find(" `")
        && let Some(end) = rest[tick + 2..].find("`, expected ")
    {
        return format!("{}{}", &rest[..tick], &rest[tick + 2 + end + 1..]);
    }
    rest.to_owned()
}

/// Reads the body, refusing it as soon as it grows past the limit.
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, ChallengeError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| ChallengeError::BadRequest(format!("could not read the body: {err}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ChallengeError::BodyTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn field<T>(result: Result<T, InvalidInput>) -> Result<T, ChallengeError> {
    result.map_err(|err| ChallengeError::BadRequest(err.0))
}

// Read as plain JSON first and parsed field by field, so that a refusal names the field; the
// schema shows each field as parsed.
/// What to create: for whom, what for, and what to do with the message.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreateChallengeRequest)]
pub(super) struct CreateBody {
    #[schema(value_type = EmailAddress)]
    email: String,
    #[schema(value_type = Purpose)]
    purpose: String,
    #[schema(value_type = Option<RecipientName>)]
    name: Option<String>,
    #[schema(value_type = Option<UserId>)]
    user_id: Option<String>,
    // Kept as sent: see [`Metadata`].
    #[serde(default)]
    #[schema(value_type = Metadata)]
    metadata: Option<Box<RawValue>>,
    /// Delete this tenancy's other pending challenges for this purpose and subject (userId, else email).
    #[schema(default = false)]
    invalidate_others: Option<bool>,
    /// Skips the per-email rate limits.
    #[schema(default = false)]
    skip_rate_limit: Option<bool>,
    /// Whether the service sends the message itself; `false` only returns it.
    #[schema(default = true)]
    send_email: Option<bool>,
}

impl CreateBody {
    fn parse(self) -> Result<NewChallenge, ChallengeError> {
        Ok(NewChallenge {
            email: field(EmailAddress::parse(&self.email))?,
            purpose: field(Purpose::parse(&self.purpose))?,
            name: field(self.name.as_deref().map(RecipientName::parse).transpose())?.flatten(),
            user_id: field(self.user_id.as_deref().map(UserId::parse).transpose())?,
            metadata: field(Metadata::from_raw(self.metadata))?,
            invalidate_others: self.invalidate_others.unwrap_or(false),
            skip_rate_limit: self.skip_rate_limit.unwrap_or(false),
            send_email: self.send_email.unwrap_or(true),
        })
    }
}

/// The body of verify: the challenge, the secret its creator kept and the code the person typed.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VerifyChallengeRequest)]
pub(super) struct VerifyBody {
    challenge_id: ChallengeId,
    secret: Secret,
    code: Code,
}

fn challenge_id(req: &HttpRequest) -> ChallengeId {
    ChallengeId::new(req.match_info().get("challengeId").unwrap_or_default().to_owned())
}

async fn create(
    service: web::Data<ChallengeService>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ChallengeError> {
    let tenancy = authorize(&service, &req).await?;
    let new = parse_json::<CreateBody>(&req, &read_body(body).await?)?.parse()?;
    let created: CreatedChallenge = service.create(&tenancy, new).await?;
    Ok(HttpResponse::Created().json(Tagged::new(tag::CHALLENGE_CREATED, Wrapped { challenge: &created })))
}

async fn get(service: web::Data<ChallengeService>, req: HttpRequest) -> Result<HttpResponse, ChallengeError> {
    let tenancy = authorize(&service, &req).await?;
    let challenge = service.get(&tenancy, &challenge_id(&req)).await?;
    Ok(HttpResponse::Ok().json(Tagged::new(tag::CHALLENGE, &challenge)))
}

async fn verify(
    service: web::Data<ChallengeService>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ChallengeError> {
    let tenancy = authorize(&service, &req).await?;
    let VerifyBody { challenge_id, secret, code } = parse_json(&req, &read_body(body).await?)?;
    let challenge = service.verify(&tenancy, &challenge_id, &secret, &code).await?;
    let readable = Tagged::new(tag::CHALLENGE, &challenge);
    Ok(HttpResponse::Ok().json(Tagged::new(tag::CHALLENGE_VERIFIED, Wrapped { challenge: readable })))
}

async fn delete(service: web::Data<ChallengeService>, req: HttpRequest) -> Result<HttpResponse, ChallengeError> {
    let tenancy = authorize(&service, &req).await?;
    service.delete(&tenancy, &challenge_id(&req)).await?;
    Ok(HttpResponse::Accepted().json(Tagged::new(tag::CHALLENGE_DELETED, Nothing {})))
}

#[cfg(test)]
mod tests {
    use super::without_sent_value;

    #[test]
    fn a_wrongly_typed_value_is_named_by_its_kind_only() {
        let cases = [
            (
                "invalid type: integer `123456`, expected a string at line 1 column 9",
                "invalid type: integer, expected a string at line 1 column 9",
            ),
            (
                "invalid type: string \"yes request_id=x\", expected a boolean",
                "invalid type: string, expected a boolean",
            ),
            (
                "invalid type: string \"a \\\", expected b\", expected a boolean",
                "invalid type: string, expected a boolean",
            ),
            (
                "invalid type: floating point `1.5`, expected a string",
                "invalid type: floating point, expected a string",
            ),
            ("invalid type: character ```, expected a string", "invalid type: character, expected a string"),
            ("invalid value: integer `-1`, expected u32", "invalid value: integer, expected u32"),
            ("invalid type: map, expected a string", "invalid type: map, expected a string"),
            ("missing field `code`", "missing field `code`"),
        ];
        for (serde_says, we_say) in cases {
            assert_eq!(without_sent_value(serde_says), we_say, "for {serde_says}");
        }
    }
}
