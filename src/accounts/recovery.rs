//! Account recovery, for someone who lost their passkey. A code proves the mailbox (the
//! `Recovery` flow in `flows.rs`) and opens a short recovery grant; the grant can only enrol a
//! new passkey; enrolling ends it, with the person's choices applied in one transaction and a
//! notice to the account's mailbox.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::emails;
use super::session_store::DbSessionStore;
use super::users::Users;
use crate::clock::{Clock, format_time};
use crate::domain::AccountId;
use crate::mail::{Brand, Outbox};
use crate::passkeys::store::PasskeyStore;
use crate::passkeys::{NewPasskey, PasskeyError};

/// What a recovery session may do: enrol a passkey for `account`, until `expires_at` (epoch ms).
/// Kept in the session state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RecoveryGrant {
    pub account: AccountId,
    pub expires_at: i64,
}

impl RecoveryGrant {
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.expires_at > now_ms
    }

    /// Whole minutes left, rounded up.
    pub fn minutes_left(&self, now_ms: i64) -> i64 {
        (self.expires_at - now_ms + 59_999) / 60_000
    }
}

/// What the person chose when enrolling through recovery.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryChoices {
    /// Remove every other passkey of the account: one may have been lost or stolen.
    pub remove_other_passkeys: bool,
    /// End every other session of the account, recovery sessions included.
    pub sign_out_elsewhere: bool,
}

#[derive(Clone)]
pub struct Recovery {
    users: Users,
    outbox: Outbox,
    clock: Clock,
    ttl: Duration,
    brand: Brand,
}

/// What recovery is built from.
pub struct RecoveryParts {
    pub users: Users,
    /// For the notice to the account's mailbox, which must not be lost.
    pub outbox: Outbox,
    pub clock: Clock,
    /// How long a grant may enrol a passkey.
    pub ttl: Duration,
    /// The product and site the notice names, and the base of its link.
    pub brand: Brand,
}

impl Recovery {
    pub fn new(parts: RecoveryParts) -> Self {
        let RecoveryParts { users, outbox, clock, ttl, brand } = parts;
        Self { users, outbox, clock, ttl, brand }
    }

    /// The grant that a verified recovery code opens.
    pub fn grant(&self, account: AccountId) -> RecoveryGrant {
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        RecoveryGrant { account, expires_at: self.clock.now_ms().saturating_add(ttl_ms) }
    }

    /// Ends a recovery with the verified `passkey` it enrolled: the passkey, the person's
    /// choices and a notice to the account's mailbox in one transaction, so that no passkey is
    /// added by recovery without its owner hearing of it, mail server down or not. The caller
    /// then signs the session in under a new key.
    #[tracing::instrument(skip_all)]
    pub async fn complete(
        &self,
        account: AccountId,
        name: &str,
        passkey: &NewPasskey,
        choices: RecoveryChoices,
    ) -> Result<(), PasskeyError> {
        let user = self.users.find(account).await?;
        let mut recovery = self.outbox.begin().await?;
        let added = PasskeyStore::insert_in(recovery.conn(), account, name, passkey, self.clock.now_ms()).await?;
        if choices.remove_other_passkeys {
            PasskeyStore::remove_all_but(recovery.conn(), account, added).await?;
        }
        if choices.sign_out_elsewhere {
            DbSessionStore::end_all_of(recovery.conn(), account).await?;
        }
        if let Some(user) = user {
            let when = format_time(self.clock.now_ms());
            recovery.queue(&emails::passkey_added_through_recovery(&user.email, &when, &self.brand)).await?;
        }
        Ok(recovery.commit().await?)
    }
}
