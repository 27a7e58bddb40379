//! Keyed hashes of secrets and codes: what is stored at rest instead of the values.

use super::model::{ChallengeId, Code, Secret};
use crate::domain::hmac_sha256;

/// HMAC-SHA-256 under the server's `CHALLENGE_HASH_KEY`. Each hash is bound to its challenge
/// and to its role, so equal codes of two challenges hash differently and a code hash can
/// never stand in for a secret hash.
#[derive(Clone)]
pub struct Hasher {
    key: Vec<u8>,
}

impl Hasher {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn hash(&self, role: &[u8], id: &ChallengeId, value: &str) -> Vec<u8> {
        hmac_sha256(&self.key, &[role, &[0], id.as_str().as_bytes(), &[0], value.as_bytes()])
    }

    pub fn secret(&self, id: &ChallengeId, secret: &Secret) -> Vec<u8> {
        self.hash(b"secret", id, secret.expose())
    }

    pub fn code(&self, id: &ChallengeId, code: &Code) -> Vec<u8> {
        self.hash(b"code", id, code.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::constant_time_eq as same_hash;

    #[test]
    fn hashes_are_bound_to_key_role_and_challenge() {
        let id = ChallengeId::new("abc".into());
        let other_id = ChallengeId::new("abd".into());
        let code = Code::new("123456".into());
        let a = Hasher::new(b"key-a");
        let b = Hasher::new(b"key-b");
        assert!(same_hash(&a.code(&id, &code), &a.code(&id, &code)));
        assert!(!same_hash(&a.code(&id, &code), &b.code(&id, &code)));
        assert!(!same_hash(&a.code(&id, &code), &a.code(&other_id, &code)));
        let as_secret = Secret::new("123456".into());
        assert!(!same_hash(&a.code(&id, &code), &a.secret(&id, &as_secret)));
    }
}
