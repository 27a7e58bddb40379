//! The notes of the passkey endpoints: the options a ceremony sends to the browser, and the
//! credential the browser returns with what was checked of it.

use std::error::Error as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Url};

use super::DevNotes;
use crate::client::dev_notes::{Checks, DevNote, Exchange, ShownJson, record};
use crate::passkeys::PasskeyError;
use crate::passkeys::ceremonies::Kind;

const NEW_PASSKEY_OPTIONS: &str = "webauthn-rs made a fresh challenge, and the app keeps the ceremony state \
     server-side, for one use within five minutes. The page script hands these options to \
     `navigator.credentials.create()`: `residentKey: required` asks for a discoverable passkey, and \
     `excludeCredentials` names the passkeys the account already has.";
const SIGN_IN_OPTIONS: &str = "webauthn-rs made a fresh challenge, and the app keeps the ceremony state server-side, \
     for one use within five minutes. The page script hands these options to `navigator.credentials.get()`; with no \
     `allowCredentials`, any passkey of this site may answer, so nobody types an email.";
const NEW_PASSKEY_CREDENTIAL: &str = "The browser returned the new passkey's public key. The app took the ceremony \
     state from its store (once) and webauthn-rs checked the credential against it; the app keeps the public key and \
     the credential id, never a private key.";
const SIGN_IN_CREDENTIAL: &str = "The browser returned an assertion: the challenge, signed with the passkey's \
     private key. The app found the passkey by its user handle and credential id; webauthn-rs checked the signature \
     with the stored public key, and the counter against the stored one.";

/// Longer ids and challenges are cut to this many characters: enough to tell them apart.
const SHOWN_ID_CHARS: usize = 12;

/// A credential the browser returned.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    NewPasskey(&'a RegisterPublicKeyCredential),
    SignIn(&'a PublicKeyCredential),
}

impl DevNotes {
    /// Notes the options a ceremony sends to the browser.
    pub fn options_sent(&self, kind: Kind, options: &impl Serialize) {
        if self.shown() {
            record(|| options_note(kind, options));
        }
    }

    /// Notes a returned credential and what was checked of it; `verdict` is the ceremony's.
    pub fn credential_checked(&self, credential: Credential<'_>, verdict: Result<(), &PasskeyError>) {
        if let Some(config) = &self.0 {
            record(|| match credential {
                Credential::NewPasskey(new) => new_passkey_note(&config.relying_party, new, verdict),
                Credential::SignIn(assertion) => sign_in_note(&config.relying_party, assertion, verdict),
            });
        }
    }
}

fn options_note(kind: Kind, options: &impl Serialize) -> DevNote {
    let (title, path, words) = match kind {
        Kind::Registration => ("Passkey options sent", "/passkeys/register/start", NEW_PASSKEY_OPTIONS),
        Kind::Authentication => ("Passkey sign-in options sent", "/passkeys/login/start", SIGN_IN_OPTIONS),
    };
    let mut body = serde_json::to_value(options).unwrap_or_default();
    shorten_ids(&mut body);
    let exchange = Exchange {
        method: "POST".into(),
        path: path.into(),
        status: Some(200),
        request: None,
        response: Some(ShownJson::from_value(body)),
    };
    DevNote::new(title, words).with_exchange(exchange)
}

fn new_passkey_note(
    relying_party: &Url,
    new: &RegisterPublicKeyCredential,
    verdict: Result<(), &PasskeyError>,
) -> DevNote {
    let mut checks = Checks::default();
    let client_data =
        checked_client_data(relying_party, &new.response.client_data_json, "webauthn.create", &mut checks);
    verdict_of_webauthn_rs(&mut checks, "challenge, attestation, user verification", verdict);
    let request = json!({
        "id": short(&new.id),
        "type": new.type_,
        "response": {
            "clientDataJSON": client_data.shown(),
            "attestationObject": format!("({} bytes)", new.response.attestation_object.len()),
            "transports": new.response.transports,
        },
    });
    let exchange = returned("/passkeys/register/finish", request);
    DevNote::new("Passkey credential returned", NEW_PASSKEY_CREDENTIAL).with_exchange(exchange).with_checks(checks)
}

fn sign_in_note(relying_party: &Url, assertion: &PublicKeyCredential, verdict: Result<(), &PasskeyError>) -> DevNote {
    let mut checks = Checks::default();
    let client_data =
        checked_client_data(relying_party, &assertion.response.client_data_json, "webauthn.get", &mut checks);
    let data = AuthenticatorData::parse(&assertion.response.authenticator_data).unwrap_or_default();
    let expected_hash = hex(&Sha256::digest(relying_party.host_str().unwrap_or_default().as_bytes()));
    let same_hash = expected_hash == data.rp_id_hash;
    checks.outcome("rpIdHash", &short(&expected_hash), &short(&data.rp_id_hash), same_hash);
    checks.same("user verified (UV flag)", "yes", if data.user_verified { "yes" } else { "no" });
    verdict_of_webauthn_rs(&mut checks, "challenge, signature, counter", verdict);
    let user_handle = assertion.response.user_handle.as_deref().map(|handle| short(&URL_SAFE_NO_PAD.encode(handle)));
    let request = json!({
        "id": short(&assertion.id),
        "type": assertion.type_,
        "response": {
            "clientDataJSON": client_data.shown(),
            "authenticatorData": {
                "rpIdHash": short(&data.rp_id_hash),
                "flags": { "userPresent": data.user_present, "userVerified": data.user_verified },
                "signCount": data.sign_count,
            },
            "signature": format!("({} bytes)", assertion.response.signature.len()),
            "userHandle": user_handle,
        },
    });
    let exchange = returned("/passkeys/login/finish", request);
    DevNote::new("Passkey sign-in returned", SIGN_IN_CREDENTIAL).with_exchange(exchange).with_checks(checks)
}

/// The client data of a credential, with its ceremony type and origin checked.
fn checked_client_data(relying_party: &Url, json: &[u8], expected_type: &str, checks: &mut Checks) -> ClientData {
    let client_data: ClientData = serde_json::from_slice(json).unwrap_or_default();
    checks.same("clientDataJSON.type", expected_type, &client_data.kind);
    // Compared as origins, as webauthn-rs does: `http://localhost:8080/` names the same one.
    let expected_origin = relying_party.origin();
    let same_origin = Url::parse(&client_data.origin).is_ok_and(|actual| actual.origin() == expected_origin);
    checks.outcome("clientDataJSON.origin", &expected_origin.ascii_serialization(), &client_data.origin, same_origin);
    client_data
}

/// What webauthn-rs checked out of sight (`what`), as one check with its verdict.
fn verdict_of_webauthn_rs(checks: &mut Checks, what: &str, verdict: Result<(), &PasskeyError>) {
    checks.outcome(&format!("{what} (webauthn-rs)"), "accepted", &verdict_words(verdict), verdict.is_ok());
}

/// The browser's request to a finish endpoint; its answer is the checks' outcome.
fn returned(path: &str, request: Value) -> Exchange {
    Exchange {
        method: "POST".into(),
        path: path.into(),
        status: None,
        request: Some(ShownJson::from_value(request)),
        response: None,
    }
}

fn verdict_words(verdict: Result<(), &PasskeyError>) -> String {
    match verdict {
        Ok(()) => "accepted".into(),
        Err(err) => match err.source() {
            Some(cause) => format!("refused: {err} ({cause})"),
            None => format!("refused: {err}"),
        },
    }
}

/// What the browser says it signed: the ceremony, its challenge and the page's origin.
#[derive(Default, Deserialize)]
struct ClientData {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    origin: String,
}

impl ClientData {
    fn shown(&self) -> Value {
        json!({ "type": self.kind, "challenge": short(&self.challenge), "origin": self.origin })
    }
}

/// The fixed start of an assertion's authenticator data: the hash of the RP id it was made
/// for, its flags and its signature counter.
#[derive(Default)]
struct AuthenticatorData {
    rp_id_hash: String,
    user_present: bool,
    user_verified: bool,
    sign_count: u32,
}

impl AuthenticatorData {
    const USER_PRESENT: u8 = 0x01;
    const USER_VERIFIED: u8 = 0x04;

    fn parse(bytes: &[u8]) -> Option<Self> {
        let flags = *bytes.get(32)?;
        Some(Self {
            rp_id_hash: hex(bytes.get(..32)?),
            user_present: flags & Self::USER_PRESENT != 0,
            user_verified: flags & Self::USER_VERIFIED != 0,
            sign_count: u32::from_be_bytes(bytes.get(33..37)?.try_into().ok()?),
        })
    }
}

/// Cuts the challenge and ids of WebAuthn options, wherever they are, to [`short`] ones.
fn shorten_ids(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match (name.as_str(), &mut *field) {
                    ("challenge" | "id", Value::String(text)) => *text = short(text),
                    (_, field) => shorten_ids(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_ids),
        _ => {}
    }
}

/// The first characters of a long id, then `…`.
fn short(id: &str) -> String {
    match id.char_indices().nth(SHOWN_ID_CHARS) {
        Some((cut, _)) => format!("{}…", &id[..cut]),
        None => id.to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticator_data_reads_its_hash_flags_and_counter() {
        let mut bytes = vec![0xab; 32];
        bytes.extend([0x05, 0, 0, 1, 2]);

        let data = AuthenticatorData::parse(&bytes).expect("37 bytes are enough");

        assert_eq!(data.rp_id_hash, "ab".repeat(32));
        assert!(data.user_present && data.user_verified);
        assert_eq!(data.sign_count, 258);
        assert!(AuthenticatorData::parse(&bytes[..36]).is_none(), "too short");
    }

    #[test]
    fn long_ids_and_challenges_are_shortened_and_short_ones_kept() {
        let mut options = json!({ "publicKey": { "challenge": "c".repeat(43), "rp": { "id": "localhost" }, "excludeCredentials": [{ "id": "i".repeat(60) }] } });

        shorten_ids(&mut options);

        let key = &options["publicKey"];
        assert_eq!(key["challenge"], format!("{}…", "c".repeat(SHOWN_ID_CHARS)));
        assert_eq!(key["rp"]["id"], "localhost");
        assert_eq!(key["excludeCredentials"][0]["id"], format!("{}…", "i".repeat(SHOWN_ID_CHARS)));
    }
}
