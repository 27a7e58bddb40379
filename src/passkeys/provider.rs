//! Who keeps a passkey: the provider its authenticator names by AAGUID when the passkey is made
//! ("Google Password Manager", "Windows Hello", a YubiKey), so that a list of passkeys can say so.
//!
//! `aaguids.json` holds a few dozen common AAGUIDs with their names (no icons), taken from the
//! community list <https://github.com/passkeydeveloper/passkey-authenticator-aaguids>: its
//! `aaguid.json` for passkey providers and, for security keys, the FIDO Metadata Service entries
//! it merges into `combined_aaguid.json`, checked against Yubico's table "YubiKey Hardware FIDO2
//! AAGUIDs". That list has no licence file; its maintainers allow embedding it in other software
//! (its issue #20). As the list itself says, it is for naming passkeys and nothing else: with
//! "none" attestation an AAGUID is only what the authenticator claims.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::Deserialize;
use uuid::Uuid;

/// An authenticator model's id, as the authenticator reported it. Never all zeros: that is how
/// an authenticator (or a browser hiding it) says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aaguid(Uuid);

impl Aaguid {
    fn new(uuid: Uuid) -> Option<Self> {
        (!uuid.is_nil()).then_some(Self(uuid))
    }

    /// The AAGUID in a registration's attestation object (CBOR), if its authenticator data
    /// carries one. Read after webauthn-rs verified the registration, which keeps the AAGUID to
    /// itself.
    pub fn from_attestation_object(attestation_object: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct AttestationObject<'a> {
            #[serde(rename = "authData")]
            auth_data: &'a [u8],
        }
        // Authenticator data: rpIdHash (32 bytes), flags (1), signCount (4), then, when the AT
        // flag says attested credential data follows, the AAGUID (16).
        const FLAGS: usize = 32;
        const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
        const AAGUID: std::ops::Range<usize> = 37..53;
        let object: AttestationObject = serde_cbor_2::from_slice(attestation_object).ok()?;
        let flags = *object.auth_data.get(FLAGS)?;
        if flags & ATTESTED_CREDENTIAL_DATA == 0 {
            return None;
        }
        Self::new(Uuid::from_slice(object.auth_data.get(AAGUID)?).ok()?)
    }

    /// The provider's name, if the table knows this AAGUID.
    pub fn provider(self) -> Option<&'static str> {
        PROVIDERS.0.get(&self).map(String::as_str)
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidAaguid {
    #[error("not a UUID: {0}")]
    Syntax(#[from] uuid::Error),
    #[error("the all-zero AAGUID names no authenticator")]
    Nil,
}

impl FromStr for Aaguid {
    type Err = InvalidAaguid;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text.parse()?).ok_or(InvalidAaguid::Nil)
    }
}

/// The name a passkey gets when its owner types none: who keeps it and the day it was made,
/// "Google Password Manager, 22 November 2026", or "Passkey, …" for an unknown provider. The
/// time of day is left to the list's "added" column, which says it in the viewer's time zone.
pub fn default_name(aaguid: Option<Aaguid>, now_ms: i64) -> String {
    let provider = aaguid.and_then(Aaguid::provider).unwrap_or("Passkey");
    match time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000)) {
        Ok(day) => format!("{provider}, {} {} {}", day.day(), day.month(), day.year()),
        Err(_) => provider.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
enum TableError {
    #[error("not a JSON list of {{\"aaguid\", \"name\"}}: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Aaguid(#[from] InvalidAaguid),
    #[error("{0} is listed twice")]
    Duplicate(Aaguid),
    #[error("{0} has a blank name")]
    BlankName(Aaguid),
}

/// The table of `aaguids.json`: each AAGUID once, each with a name.
struct Providers(HashMap<Aaguid, String>);

impl Providers {
    fn parse(json: &str) -> Result<Self, TableError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            aaguid: String,
            name: String,
        }
        let entries: Vec<Entry> = serde_json::from_str(json)?;
        let mut names = HashMap::with_capacity(entries.len());
        for Entry { aaguid, name } in entries {
            let aaguid: Aaguid = aaguid.parse()?;
            if name.trim().is_empty() {
                return Err(TableError::BlankName(aaguid));
            }
            if names.insert(aaguid, name).is_some() {
                return Err(TableError::Duplicate(aaguid));
            }
        }
        Ok(Self(names))
    }
}

/// Parsed on first use, which [`load_table`] makes the app's start; its unit test proves the
/// file parses, so the panic is for a broken build only.
static PROVIDERS: LazyLock<Providers> = LazyLock::new(|| {
    Providers::parse(include_str!("aaguids.json")).unwrap_or_else(|err| panic!("src/passkeys/aaguids.json: {err}"))
});

pub fn load_table() {
    LazyLock::force(&PROVIDERS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aaguid(text: &str) -> Aaguid {
        text.parse().expect("an AAGUID")
    }

    /// An attestation object as an authenticator sends it, with these authenticator data.
    fn attestation_object(auth_data: Vec<u8>) -> Vec<u8> {
        use serde_cbor_2::Value;
        let object = [
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(Default::default())),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ];
        serde_cbor_2::to_vec(&Value::Map(object.into_iter().collect())).expect("CBOR")
    }

    fn auth_data(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut data = vec![0xAA; 32];
        data.push(flags);
        data.extend([0, 0, 0, 0]);
        data.extend(aaguid);
        data.extend([0, 1, 0x42]); // a credential id, then the public key (cut short: unread)
        data
    }

    const GOOGLE: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";

    #[test]
    fn the_embedded_table_parses_with_each_aaguid_once() {
        let table = Providers::parse(include_str!("aaguids.json")).expect("the table parses");
        assert!(table.0.len() >= 24, "a few dozen providers, not {}", table.0.len());
    }

    #[test]
    fn a_table_listing_an_aaguid_twice_is_refused() {
        let twice = format!(
            r#"[{{"aaguid": "{GOOGLE}", "name": "A"}}, {{"aaguid": "{}", "name": "B"}}]"#,
            GOOGLE.to_uppercase()
        );
        assert!(matches!(Providers::parse(&twice), Err(TableError::Duplicate(_))));
    }

    #[test]
    fn a_table_with_a_zero_aaguid_or_a_blank_name_is_refused() {
        let zero = r#"[{"aaguid": "00000000-0000-0000-0000-000000000000", "name": "Nobody"}]"#;
        assert!(matches!(Providers::parse(zero), Err(TableError::Aaguid(InvalidAaguid::Nil))));
        let blank = format!(r#"[{{"aaguid": "{GOOGLE}", "name": "  "}}]"#);
        assert!(matches!(Providers::parse(&blank), Err(TableError::BlankName(_))));
    }

    #[test]
    fn known_aaguids_name_their_provider_and_others_name_none() {
        assert_eq!(aaguid(GOOGLE).provider(), Some("Google Password Manager"));
        assert_eq!(aaguid("08987058-cadc-4b81-b6e1-30de50dcbe96").provider(), Some("Windows Hello"));
        assert_eq!(aaguid("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").provider(), Some("Apple Passwords"));
        // webauthn-authenticator-rs' SoftToken, which no list knows.
        assert_eq!(aaguid("0fb9bcbc-a0d4-4042-bbb0-559bc1631e28").provider(), None);
    }

    #[test]
    fn the_aaguid_is_read_from_the_attested_credential_data() {
        let google = *aaguid(GOOGLE).0.as_bytes();
        let object = attestation_object(auth_data(0x45, google));
        assert_eq!(Aaguid::from_attestation_object(&object), Some(aaguid(GOOGLE)));
    }

    #[test]
    fn no_aaguid_when_zero_absent_or_unreadable() {
        let google = *aaguid(GOOGLE).0.as_bytes();
        assert_eq!(Aaguid::from_attestation_object(&attestation_object(auth_data(0x45, [0; 16]))), None, "zero");
        assert_eq!(Aaguid::from_attestation_object(&attestation_object(auth_data(0x05, google))), None, "no AT flag");
        assert_eq!(Aaguid::from_attestation_object(&attestation_object(vec![0x45; 40])), None, "cut short");
        assert_eq!(Aaguid::from_attestation_object(b"not CBOR"), None, "not CBOR");
    }

    #[test]
    fn the_default_name_is_the_provider_and_the_day() {
        // 2026-11-22 16:04 UTC
        let at = 1_795_363_445_678;
        assert_eq!(default_name(Some(aaguid(GOOGLE)), at), "Google Password Manager, 22 November 2026");
        assert_eq!(default_name(None, at), "Passkey, 22 November 2026");
        assert_eq!(default_name(Some(aaguid("0fb9bcbc-a0d4-4042-bbb0-559bc1631e28")), at), "Passkey, 22 November 2026");
    }
}
