//! Passkeys with webauthn-rs: enrolment and discoverable sign-in, with ceremony state kept
//! server-side and used once. The WebAuthn user handle is the account's UUID, never the email.

pub mod ceremonies;
pub mod provider;
pub mod store;

use std::sync::Arc;

use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy};

use self::ceremonies::{Ceremonies, Kind};
use self::provider::Aaguid;
use self::store::{PasskeyStore, StoreError};
use crate::clock::Clock;
use crate::db::Database;
use crate::domain::{AccountId, DisplayName, EmailAddress};

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("This passkey request has expired or was already used. Please try again.")]
    CeremonyGone,
    #[error("The passkey could not be verified. Please try again.")]
    Rejected(#[source] webauthn_rs::prelude::WebauthnError),
    #[error("This passkey is not registered here. Sign in with an email code instead.")]
    UnknownCredential,
    #[error("This passkey is already registered.")]
    AlreadyRegistered,
    #[error("This passkey was used or removed at the same moment elsewhere. Please try again.")]
    ChangedMeanwhile,
    #[error("Something went wrong on our side. Please try again.")]
    Storage(#[from] sqlx::Error),
}

impl From<StoreError> for PasskeyError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::AlreadyRegistered => Self::AlreadyRegistered,
            StoreError::Storage(e) => Self::Storage(e),
        }
    }
}

/// A passkey a registration just verified, with the provider its authenticator named.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub passkey: Passkey,
    pub aaguid: Option<Aaguid>,
}

impl NewPasskey {
    /// Its name when its owner types none.
    pub fn default_name(&self, now_ms: i64) -> String {
        provider::default_name(self.aaguid, now_ms)
    }
}

#[derive(Clone)]
pub struct Passkeys {
    webauthn: Arc<Webauthn>,
    rp_id: Arc<str>,
    store: PasskeyStore,
    ceremonies: Ceremonies,
}

impl Passkeys {
    /// The relying party is the app's public origin: its host is the RP id, and the origin
    /// keeps its port (`http://localhost:8080`).
    pub fn new(base_url: &Url, db: Database, clock: Clock) -> anyhow::Result<Self> {
        let rp_id = base_url.host_str().ok_or_else(|| anyhow::anyhow!("APP_BASE_URL has no host"))?;
        let webauthn = WebauthnBuilder::new(rp_id, base_url)
            .and_then(|b| b.rp_name("Mailbox challenges demo").build())
            .map_err(|e| anyhow::anyhow!("APP_BASE_URL {base_url} cannot be a WebAuthn relying party: {e}"))?;
        provider::load_table();
        Ok(Self {
            webauthn: Arc::new(webauthn),
            rp_id: rp_id.into(),
            store: PasskeyStore::new(db.clone(), clock.clone()),
            ceremonies: Ceremonies::new(db, clock),
        })
    }

    /// The relying party id the browser scopes this site's passkeys to.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    pub fn store(&self) -> &PasskeyStore {
        &self.store
    }

    pub fn ceremonies(&self) -> &Ceremonies {
        &self.ceremonies
    }

    /// Options for a new discoverable passkey (usernameless sign-in needs a resident key),
    /// excluding the ones the account already has; and the ceremony id for the session.
    #[tracing::instrument(skip_all)]
    pub async fn start_registration(
        &self,
        account: AccountId,
        email: &EmailAddress,
        name: &DisplayName,
    ) -> Result<(CreationChallengeResponse, String), PasskeyError> {
        let existing = self.store.list(account).await?;
        let exclude = existing.iter().map(|p| p.passkey.cred_id().clone()).collect();
        let (mut options, state) = self
            .webauthn
            .start_passkey_registration(account.as_uuid(), email.as_str(), name.as_str(), Some(exclude))
            .map_err(PasskeyError::Rejected)?;
        options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
            authenticator_attachment: None,
            resident_key: Some(ResidentKeyRequirement::Required),
            require_resident_key: true,
            user_verification: UserVerificationPolicy::Required,
        });
        let ceremony = self.ceremonies.put(Kind::Registration, Some(account), &state).await?;
        Ok((options, ceremony))
    }

    /// Verifies the new credential against the ceremony (used up by this call); the caller
    /// stores the passkey, alone or with what else its enrolment changes.
    #[tracing::instrument(skip_all)]
    pub async fn finish_registration(
        &self,
        ceremony: &str,
        user: AccountId,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<NewPasskey, PasskeyError> {
        let state: PasskeyRegistration =
            self.ceremonies.take(ceremony, Kind::Registration, Some(user)).await?.ok_or(PasskeyError::CeremonyGone)?;
        let passkey = self.webauthn.finish_passkey_registration(credential, &state).map_err(PasskeyError::Rejected)?;
        let aaguid = Aaguid::from_attestation_object(&credential.response.attestation_object);
        Ok(NewPasskey { passkey, aaguid })
    }

    /// Options for a sign-in with any of this site's passkeys (no email asked).
    #[tracing::instrument(skip_all)]
    pub async fn start_authentication(&self) -> Result<(RequestChallengeResponse, String), PasskeyError> {
        let (options, state) = self.webauthn.start_discoverable_authentication().map_err(PasskeyError::Rejected)?;
        let ceremony = self.ceremonies.put(Kind::Authentication, None, &state).await?;
        Ok((options, ceremony))
    }

    /// Verifies the assertion, refusing a counter that went backwards, and records the use.
    /// Returns the account it signs in.
    #[tracing::instrument(skip_all)]
    pub async fn finish_authentication(
        &self,
        ceremony: &str,
        credential: &PublicKeyCredential,
    ) -> Result<AccountId, PasskeyError> {
        let state: DiscoverableAuthentication =
            self.ceremonies.take(ceremony, Kind::Authentication, None).await?.ok_or(PasskeyError::CeremonyGone)?;
        let (user_handle, credential_id) =
            self.webauthn.identify_discoverable_authentication(credential).map_err(PasskeyError::Rejected)?;
        let account = AccountId::from(user_handle);
        let stored = self.store.find(account, credential_id).await?.ok_or(PasskeyError::UnknownCredential)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(credential, state, &stored.passkey)
            .map_err(PasskeyError::Rejected)?;
        let mut passkey = stored.passkey.clone();
        passkey.update_credential(&result);
        if !self.store.record_use(&stored, &passkey).await? {
            return Err(PasskeyError::ChangedMeanwhile);
        }
        Ok(account)
    }
}
