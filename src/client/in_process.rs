//! The in-process adapter: calls the embedded engine directly, authenticating like the API does.

use async_trait::async_trait;

use super::{ChallengeClient, ClientError};
use crate::challenges::model::{Challenge, ChallengeId, Code, CreatedChallenge, NewChallenge, Secret};
use crate::challenges::tenancy::AuthorizedTenancy;
use crate::challenges::{ChallengeError, ChallengeService};
use crate::domain::SecretString;

pub struct InProcessClient {
    service: ChallengeService,
    tenancy_id: String,
    api_key: SecretString,
}

impl InProcessClient {
    pub fn new(service: ChallengeService, tenancy_id: impl Into<String>, api_key: SecretString) -> Self {
        Self { service, tenancy_id: tenancy_id.into(), api_key }
    }

    async fn tenancy(&self) -> Result<AuthorizedTenancy, ClientError> {
        Ok(self.service.tenancies().authenticate(&self.tenancy_id, self.api_key.expose()).await?)
    }
}

impl From<ChallengeError> for ClientError {
    fn from(err: ChallengeError) -> Self {
        match err {
            ChallengeError::Forbidden => Self::Forbidden,
            ChallengeError::NotFound => Self::NotFound,
            ChallengeError::RateLimited { retry_after_seconds } => Self::ChallengeRateLimited { retry_after_seconds },
            ChallengeError::InvalidChallenge => Self::InvalidChallenge,
            ChallengeError::InvalidChallengeCode => Self::InvalidChallengeCode,
            ChallengeError::ChallengeExpired => Self::ChallengeExpired,
            ChallengeError::ChallengeAttemptsExceeded => Self::ChallengeAttemptsExceeded,
            ChallengeError::BadRequest(_) | ChallengeError::BodyTooLarge => Self::BadRequest(err.to_string()),
            ChallengeError::Mail(_) | ChallengeError::Storage(_) => Self::Service(format!("{err:#}")),
        }
    }
}

#[async_trait]
impl ChallengeClient for InProcessClient {
    async fn create(&self, request: &NewChallenge) -> Result<CreatedChallenge, ClientError> {
        Ok(self.service.create(&self.tenancy().await?, request.clone()).await?)
    }

    async fn get(&self, id: &ChallengeId) -> Result<Challenge, ClientError> {
        Ok(self.service.get(&self.tenancy().await?, id).await?)
    }

    async fn verify(&self, id: &ChallengeId, secret: &Secret, code: &Code) -> Result<Challenge, ClientError> {
        Ok(self.service.verify(&self.tenancy().await?, id, secret, code).await?)
    }

    async fn delete(&self, id: &ChallengeId) -> Result<(), ClientError> {
        Ok(self.service.delete(&self.tenancy().await?, id).await?)
    }
}
