//! The recording client: the app's client, with a developer note of each call, its request and
//! its answer as the REST API carries them. It wraps either adapter, so the in-process one shows
//! the calls that HTTP would make. Startup builds it in development only.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::json;

use super::dev_notes::{DevNote, Exchange, ShownJson, record};
use super::http::{CreateBody, VerifyBody};
use super::{ChallengeClient, ClientError};
use crate::challenges::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};
use crate::challenges::wire::{ErrorTag, Nothing, Tagged, WireError, Wrapped, tag};

const CREATED: &str = "The app asked the challenge service for a challenge. It keeps `challengeId` and `secret` in its \
     server-side session; only the code travels, by email, which the app sends itself (`sendEmail: false`).";
const READ: &str = "The app read the pending challenge back to rebuild the code page: where the code went and when it \
     expires. Reading a challenge never returns its `secret` or `code`.";
const VERIFIED: &str = "The app sent the `challengeId` and `secret` from its session with the code that was typed. The \
     service checked all three and used the challenge up, so the code cannot work twice.";
const DELETED: &str = "The app deleted a challenge it no longer needs: a new code replaced it, the flow was cancelled, \
     or its email could not be sent. Deleting succeeds whether or not the challenge still exists.";

pub struct RecordingClient {
    inner: Arc<dyn ChallengeClient>,
    tenancy_id: String,
}

impl RecordingClient {
    pub fn new(inner: Arc<dyn ChallengeClient>, tenancy_id: impl Into<String>) -> Self {
        Self { inner, tenancy_id: tenancy_id.into() }
    }

    /// `/{tenancyId}/challenges`, then `rest`, as the API's paths go.
    fn path(&self, rest: Option<&str>) -> String {
        let base = format!("/{}/challenges", self.tenancy_id);
        rest.map_or_else(|| base.clone(), |rest| format!("{base}/{rest}"))
    }
}

/// One call: what it asked, and what its success means.
struct Call {
    title: &'static str,
    method: &'static str,
    path: String,
    request: Option<ShownJson>,
    success_words: &'static str,
}

impl Call {
    /// Its note, with the answer: on success, the status and body `success` gives; otherwise
    /// the error as the API sends it.
    fn note<T>(self, answer: &Result<T, ClientError>, success: impl FnOnce(&T) -> (StatusCode, ShownJson)) -> DevNote {
        let (status, response, words) = match answer {
            Ok(value) => {
                let (status, body) = success(value);
                (Some(status.as_u16()), Some(body), self.success_words)
            }
            Err(err) => {
                let (status, body) = error_answer(err);
                (status, body, error_words(err))
            }
        };
        let exchange =
            Exchange { method: self.method.into(), path: self.path, status, request: self.request, response };
        DevNote::new(self.title, words).with_exchange(exchange)
    }
}

#[async_trait]
impl ChallengeClient for RecordingClient {
    async fn create(&self, request: &NewChallenge) -> Result<CreatedChallenge, ClientError> {
        let answer = self.inner.create(request).await;
        record(|| {
            let body = ShownJson::of(&CreateBody::of(request));
            let call = Call {
                title: "Create a challenge",
                method: "POST",
                path: self.path(None),
                request: Some(body),
                success_words: CREATED,
            };
            call.note(&answer, |created| {
                (
                    StatusCode::CREATED,
                    ShownJson::of(&Tagged::new(tag::CHALLENGE_CREATED, Wrapped { challenge: created })),
                )
            })
        });
        answer
    }

    async fn get(&self, id: &ChallengeId) -> Result<Challenge, ClientError> {
        let answer = self.inner.get(id).await;
        record(|| {
            let call = Call {
                title: "Read the challenge",
                method: "GET",
                path: self.path(Some(id.as_str())),
                request: None,
                success_words: READ,
            };
            call.note(&answer, |challenge| (StatusCode::OK, ShownJson::of(&Tagged::new(tag::CHALLENGE, challenge))))
        });
        answer
    }

    async fn verify(&self, id: &ChallengeId, secret: &Secret, code: &Code) -> Result<Challenge, ClientError> {
        let answer = self.inner.verify(id, secret, code).await;
        record(|| {
            let body = ShownJson::of(&VerifyBody { challenge_id: id, secret, code });
            let call = Call {
                title: "Verify the code",
                method: "POST",
                path: self.path(Some("verify")),
                request: Some(body),
                success_words: VERIFIED,
            };
            call.note(&answer, |challenge| {
                let readable = Tagged::new(tag::CHALLENGE, challenge);
                (StatusCode::OK, ShownJson::of(&Tagged::new(tag::CHALLENGE_VERIFIED, Wrapped { challenge: readable })))
            })
        });
        answer
    }

    async fn delete(&self, id: &ChallengeId) -> Result<(), ClientError> {
        let answer = self.inner.delete(id).await;
        record(|| {
            let call = Call {
                title: "Delete the challenge",
                method: "DELETE",
                path: self.path(Some(id.as_str())),
                request: None,
                success_words: DELETED,
            };
            call.note(&answer, |()| {
                (StatusCode::ACCEPTED, ShownJson::of(&Tagged::new(tag::CHALLENGE_DELETED, Nothing {})))
            })
        });
        answer
    }
}

/// The status and body the API answers with for `err`; `None` where there was no answer, or
/// none the client kept.
fn error_answer(err: &ClientError) -> (Option<u16>, Option<ShownJson>) {
    let wire = |status: StatusCode, tag: ErrorTag, retry_after_seconds: Option<u64>| {
        let message = match err {
            ClientError::BadRequest(message) => message.clone(),
            other => other.to_string(),
        };
        let body = WireError { tag: tag.as_str().into(), message, retry_after_seconds };
        (Some(status.as_u16()), Some(ShownJson::of(&body)))
    };
    match err {
        ClientError::Forbidden => wire(StatusCode::FORBIDDEN, ErrorTag::Forbidden, None),
        ClientError::NotFound => wire(StatusCode::NOT_FOUND, ErrorTag::NotFound, None),
        ClientError::ChallengeRateLimited { retry_after_seconds } => {
            wire(StatusCode::TOO_MANY_REQUESTS, ErrorTag::ChallengeRateLimited, Some(*retry_after_seconds))
        }
        ClientError::InvalidChallenge => wire(StatusCode::BAD_REQUEST, ErrorTag::InvalidChallenge, None),
        ClientError::InvalidChallengeCode => wire(StatusCode::BAD_REQUEST, ErrorTag::InvalidChallengeCode, None),
        ClientError::ChallengeExpired => wire(StatusCode::BAD_REQUEST, ErrorTag::ChallengeExpired, None),
        ClientError::ChallengeAttemptsExceeded => {
            wire(StatusCode::BAD_REQUEST, ErrorTag::ChallengeAttemptsExceeded, None)
        }
        ClientError::BadRequest(_) => wire(StatusCode::BAD_REQUEST, ErrorTag::BadRequest, None),
        ClientError::UnexpectedResponse { status, tag } => {
            (Some(*status), tag.as_ref().map(|tag| ShownJson::from_value(json!({ "_tag": tag }))))
        }
        ClientError::Service(_) | ClientError::Transport(_) => (None, None),
    }
}

/// What an error means for the flow, in plain words.
fn error_words(err: &ClientError) -> &'static str {
    match err {
        ClientError::ChallengeRateLimited { .. } => {
            "The service refused a new challenge: this address asked for too many codes lately. The app says how long to wait."
        }
        ClientError::InvalidChallengeCode => {
            "The code was wrong. The service counted the attempt, and the app says how many are left."
        }
        ClientError::ChallengeExpired => "The challenge has expired. The app offers to send a new code.",
        ClientError::ChallengeAttemptsExceeded => {
            "Too many wrong codes: this challenge can no longer be verified. The app asks to start over."
        }
        ClientError::InvalidChallenge | ClientError::NotFound => {
            "The service has no pending challenge with this id and secret: it was used, deleted, or expired and purged. The app asks to start over."
        }
        ClientError::Forbidden => "The service refused the app's API key for this tenancy.",
        ClientError::BadRequest(_) => "The service refused the request as malformed.",
        ClientError::Service(_) | ClientError::Transport(_) | ClientError::UnexpectedResponse { .. } => {
            "The app got no usable answer from the challenge service, and asks to try again in a moment."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call {
            title: "Create a challenge",
            method: "POST",
            path: "/tn/challenges".into(),
            request: None,
            success_words: CREATED,
        }
    }

    #[test]
    fn an_error_is_noted_as_the_api_answers_it() {
        let answer: Result<(), _> = Err(ClientError::ChallengeRateLimited { retry_after_seconds: 42 });

        let note = call().note(&answer, |()| unreachable!("not a success"));

        let exchange = note.exchange.expect("an exchange");
        assert_eq!(exchange.status, Some(429));
        let body: serde_json::Value = serde_json::from_str(&exchange.response.expect("a body").pretty()).unwrap();
        assert_eq!(body["_tag"], "@error/ChallengeRateLimited");
        assert_eq!(body["retryAfterSeconds"], 42);
        assert!(note.explanation.contains("too many codes"), "{}", note.explanation);
    }

    #[test]
    fn no_answer_is_noted_without_a_status() {
        let answer: Result<(), _> = Err(ClientError::Transport("connection refused".into()));

        let exchange = call().note(&answer, |()| unreachable!("not a success")).exchange.expect("an exchange");

        assert_eq!((exchange.status, exchange.response), (None, None));
    }
}
