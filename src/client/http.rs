//! The HTTP adapter: speaks the REST API to any instance, the hosted service included.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{ChallengeClient, ClientError};
use crate::challenges::model::{
    Challenge, ChallengeId, Code, CreatedChallenge, Message, Metadata, NewChallenge, Secret,
};
use crate::challenges::wire::{ErrorTag, WireError, Wrapped, tag};
use crate::domain::SecretString;

#[derive(Debug, Clone)]
pub struct HttpClientConfig {
    /// Only its origin counts: paths are built from the root, as the official client does.
    pub endpoint: Url,
    pub tenancy_id: String,
    pub api_key: SecretString,
    /// For the whole call, connection included.
    pub timeout: Duration,
}

impl HttpClientConfig {
    pub fn new(endpoint: Url, tenancy_id: impl Into<String>, api_key: SecretString) -> Self {
        Self { endpoint, tenancy_id: tenancy_id.into(), api_key, timeout: Duration::from_secs(10) }
    }
}

pub struct HttpClient {
    http: reqwest::Client,
    config: HttpClientConfig,
}

impl HttpClient {
    pub fn new(config: HttpClientConfig) -> Result<Self, ClientError> {
        crate::tls::install_ring_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|err| ClientError::Transport(err.to_string()))?;
        Ok(Self { http, config })
    }

    /// `/{tenancyId}/challenges/{rest...}` at the root of the endpoint.
    fn url(&self, rest: &[&str]) -> Url {
        let mut url = self.config.endpoint.clone();
        url.set_query(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().push(&self.config.tenancy_id).push("challenges").extend(rest);
        }
        url
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&impl Serialize>,
        expected: (StatusCode, &str),
    ) -> Result<Answer, ClientError> {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.config.api_key.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|err| ClientError::Transport(err.without_url().to_string()))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|err| ClientError::Transport(err.without_url().to_string()))?;
        let tag = tag_of(&body);
        let unexpected = |tag| ClientError::UnexpectedResponse { status: status.as_u16(), tag };
        if status == expected.0 {
            return match tag {
                Some(tag) if tag == expected.1 => Ok(Answer { status: status.as_u16(), tag, body: body.into() }),
                other => Err(unexpected(other)),
            };
        }
        if status.is_server_error() {
            return Err(ClientError::Service(format!("HTTP {status}")));
        }
        let error: WireError = serde_json::from_slice(&body).map_err(|_| unexpected(tag.clone()))?;
        Err(client_error(error).unwrap_or_else(|| unexpected(tag)))
    }
}

/// The `_tag` of a JSON object, whatever else it holds.
#[derive(Deserialize)]
struct TagOf {
    #[serde(rename = "_tag")]
    tag: String,
}

/// Longer tags are cut: the answer is not to be trusted, and its tag ends up in logs.
const MAX_TAG_CHARS: usize = 64;

fn tag_of(body: &[u8]) -> Option<String> {
    let TagOf { tag } = serde_json::from_slice(body).ok()?;
    Some(tag.chars().take(MAX_TAG_CHARS).collect())
}

/// An answer with the expected status and `_tag`. Its parts are read one by one, each into a
/// struct that ignores the other fields, because a challenge's metadata cannot pass through
/// `#[serde(flatten)]`.
struct Answer {
    status: u16,
    tag: String,
    body: Vec<u8>,
}

impl Answer {
    fn read<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| ClientError::UnexpectedResponse { status: self.status, tag: Some(self.tag.clone()) })
    }
}

/// The part of a created challenge that only its creator sees.
#[derive(Deserialize)]
struct CreatorsPart {
    secret: Secret,
    code: Code,
    message: Message,
}

/// The client's reading of a wire error; `None` for a tag the API does not define.
fn client_error(wire: WireError) -> Option<ClientError> {
    Some(match ErrorTag::parse(&wire.tag)? {
        ErrorTag::Forbidden => ClientError::Forbidden,
        ErrorTag::NotFound => ClientError::NotFound,
        ErrorTag::ChallengeRateLimited => {
            ClientError::ChallengeRateLimited { retry_after_seconds: wire.retry_after_seconds? }
        }
        ErrorTag::InvalidChallenge => ClientError::InvalidChallenge,
        ErrorTag::InvalidChallengeCode => ClientError::InvalidChallengeCode,
        ErrorTag::ChallengeExpired => ClientError::ChallengeExpired,
        ErrorTag::ChallengeAttemptsExceeded => ClientError::ChallengeAttemptsExceeded,
        ErrorTag::BadRequest => ClientError::BadRequest(wire.message),
    })
}

/// The body of create, as the wire has it (the recording client shows it too).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateBody<'a> {
    email: &'a str,
    purpose: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    metadata: &'a Metadata,
    invalidate_others: bool,
    skip_rate_limit: bool,
    send_email: bool,
}

impl<'a> CreateBody<'a> {
    pub(super) fn of(request: &'a NewChallenge) -> Self {
        Self {
            email: request.email.as_str(),
            purpose: request.purpose.as_str(),
            name: request.name.as_ref().map(|n| n.as_str()),
            user_id: request.user_id.as_ref().map(|u| u.as_str()),
            metadata: &request.metadata,
            invalidate_others: request.invalidate_others,
            skip_rate_limit: request.skip_rate_limit,
            send_email: request.send_email,
        }
    }
}

/// The body of verify, as the wire has it (the recording client shows it masked).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VerifyBody<'a> {
    pub(super) challenge_id: &'a ChallengeId,
    pub(super) secret: &'a Secret,
    pub(super) code: &'a Code,
}

#[async_trait]
impl ChallengeClient for HttpClient {
    async fn create(&self, request: &NewChallenge) -> Result<CreatedChallenge, ClientError> {
        let body = CreateBody::of(request);
        let answer =
            self.call(Method::POST, self.url(&[]), Some(&body), (StatusCode::CREATED, tag::CHALLENGE_CREATED)).await?;
        let Wrapped { challenge } = answer.read()?;
        let Wrapped { challenge: CreatorsPart { secret, code, message } } = answer.read()?;
        Ok(CreatedChallenge { challenge, secret, code, message })
    }

    async fn get(&self, id: &ChallengeId) -> Result<Challenge, ClientError> {
        self.call(Method::GET, self.url(&[id.as_str()]), None::<&()>, (StatusCode::OK, tag::CHALLENGE)).await?.read()
    }

    async fn verify(&self, id: &ChallengeId, secret: &Secret, code: &Code) -> Result<Challenge, ClientError> {
        let body = VerifyBody { challenge_id: id, secret, code };
        let answer = self
            .call(Method::POST, self.url(&["verify"]), Some(&body), (StatusCode::OK, tag::CHALLENGE_VERIFIED))
            .await?;
        let Wrapped { challenge: TagOf { tag: nested } } = answer.read()?;
        if nested != tag::CHALLENGE {
            return Err(ClientError::UnexpectedResponse { status: answer.status, tag: Some(nested) });
        }
        Ok(answer.read::<Wrapped<Challenge>>()?.challenge)
    }

    async fn delete(&self, id: &ChallengeId) -> Result<(), ClientError> {
        let url = self.url(&[id.as_str()]);
        self.call(Method::DELETE, url, None::<&()>, (StatusCode::ACCEPTED, tag::CHALLENGE_DELETED)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_start_at_the_root_of_the_endpoint() {
        let config = HttpClientConfig::new(
            Url::parse("https://api.example.com/some/prefix?x=1").unwrap(),
            "tn_1",
            SecretString::new("k"),
        );
        let client = HttpClient::new(config).unwrap();
        assert_eq!(client.url(&[]).as_str(), "https://api.example.com/tn_1/challenges");
        assert_eq!(client.url(&["verify"]).as_str(), "https://api.example.com/tn_1/challenges/verify");
        assert_eq!(client.url(&["a/b"]).as_str(), "https://api.example.com/tn_1/challenges/a%2Fb");
    }
}
