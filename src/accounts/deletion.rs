//! Deleting an account: the user row, with everything that hangs off it, and a notice to its
//! address in the same transaction, so that no account goes without its owner hearing of it.
//!
//! Notices already queued to the address stay in the outbox and are still sent: they report
//! changes the owner should hear of whether or not the account still exists.

use super::emails;
use super::users::{User, Users};
use crate::mail::{Brand, Outbox};

#[derive(Clone)]
pub struct AccountDeletion {
    outbox: Outbox,
    brand: Brand,
}

impl AccountDeletion {
    /// `brand`: the product and site the notice names.
    pub fn new(outbox: Outbox, brand: Brand) -> Self {
        Self { outbox, brand }
    }

    /// Deletes `user`'s account; its passkeys, ceremonies and sessions on every device go with
    /// it. The notice is queued only if the account was still there to delete.
    #[tracing::instrument(skip_all)]
    pub async fn delete(&self, user: &User) -> Result<(), sqlx::Error> {
        let mut deletion = self.outbox.begin().await?;
        if Users::delete(deletion.conn(), user.id).await? {
            deletion.queue(&emails::account_deleted(&user.email, &self.brand)).await?;
        }
        deletion.commit().await
    }
}
