//! The document's schemas: those derived from the types the API reads and writes, and the
//! answers built from them the way serde writes them (flattened, tagged, and closed to any
//! property the API does not write), one per error tag.

use std::borrow::Cow;
use std::collections::BTreeMap;

use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Components, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::challenges::api::{CreateBody, VerifyBody};
use crate::challenges::model::{Challenge, CreatedChallenge, Message};
use crate::challenges::wire::{ErrorTag, Nothing, WireError, Wrapped, tag};
use crate::domain::EmailAddress;

/// The name of the security scheme: `Authorization: Bearer {apiKey}`.
pub(super) const BEARER: &str = "bearer";
/// The property that names every answer, as [`crate::challenges::wire::Tagged`] writes it.
const TAG: &str = "_tag";
/// The body of a 500.
pub(super) const SERVICE_FAILURE: &str = "ServiceFailure";
/// The body of a 503.
pub(super) const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";

impl PartialSchema for EmailAddress {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .description(Some(
                "An email address, kept as given and compared case-insensitively (ASCII letters only). \
                 Surrounding whitespace is trimmed.",
            ))
            .examples(["jane@example.com"])
            .into()
    }
}

impl ToSchema for EmailAddress {}

pub(super) fn components() -> Components {
    let mut derived = Vec::new();
    CreatedChallenge::schemas(&mut derived);
    CreateBody::schemas(&mut derived);
    VerifyBody::schemas(&mut derived);
    let mut derived: BTreeMap<String, RefOr<Schema>> = derived.into_iter().collect();
    derived.insert(CreatedChallenge::name().into(), CreatedChallenge::schema());
    derived.insert(CreateBody::name().into(), CreateBody::schema());
    derived.insert(VerifyBody::name().into(), VerifyBody::schema());

    let object = |schema: RefOr<Schema>| object_of(schema, &derived);
    let answers = [
        // As get and verify write it; the challenge inside create's answer has no tag of its own.
        (
            Challenge::name(),
            tagged(tag::CHALLENGE, object(Challenge::schema()), "A challenge; never its secret or code."),
        ),
        (
            CreatedChallenge::name(),
            described(closed(object(CreatedChallenge::schema())), "A new challenge, with its secret and code."),
        ),
        (Message::name(), closed(object(Message::schema()))),
        (
            tag::CHALLENGE_CREATED.into(),
            tagged(tag::CHALLENGE_CREATED, object(Wrapped::<CreatedChallenge>::schema()), "Create's answer."),
        ),
        (
            tag::CHALLENGE_VERIFIED.into(),
            tagged(
                tag::CHALLENGE_VERIFIED,
                object(Wrapped::<Challenge>::schema()),
                "Verify's answer: the challenge, now used.",
            ),
        ),
        (tag::CHALLENGE_DELETED.into(), tagged(tag::CHALLENGE_DELETED, object(Nothing::schema()), "Delete's answer.")),
        (
            SERVICE_FAILURE.into(),
            service_failure("A failure of the service itself; its cause is logged, never shown, so it has no `_tag`."),
        ),
        (
            SERVICE_UNAVAILABLE.into(),
            service_failure(
                "The database cannot serve the call right now; like a 500 it has no `_tag`, as it is none of the \
                 API's errors, and the message says when to try again.",
            ),
        ),
    ];
    let answers = answers.map(|(name, object): (Cow<'static, str>, Object)| (name.into_owned(), object));
    let errors = ErrorTag::ALL.map(|tag| (error_schema_name(tag), error_schema(tag)));

    let mut schemas = derived;
    schemas.extend(answers.into_iter().chain(errors).map(|(name, object)| (name, Schema::Object(object).into())));
    let mut components = Components::new();
    components.schemas = schemas.into_iter().collect();
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("`Authorization: Bearer {apiKey}`, the API key of the tenancy in the path."))
                .build(),
        ),
    );
    components
}

/// The object serde writes for `schema`: a `$ref` looked up, and the parts of an `allOf` (from
/// `#[serde(flatten)]`) merged into one object.
fn object_of(schema: RefOr<Schema>, derived: &BTreeMap<String, RefOr<Schema>>) -> Object {
    match schema {
        RefOr::Ref(reference) => {
            let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
            let found = derived.get(name).unwrap_or_else(|| panic!("no schema {name} was derived"));
            object_of(found.clone(), derived)
        }
        RefOr::T(Schema::Object(object)) => object,
        RefOr::T(Schema::AllOf(all_of)) => {
            all_of.items.into_iter().map(|part| object_of(part, derived)).fold(Object::new(), |mut merged, part| {
                merged.properties.extend(part.properties);
                merged.required.extend(part.required);
                merged.description = merged.description.or(part.description);
                merged
            })
        }
        RefOr::T(_) => panic!("serde writes each answer of the API as a JSON object"),
    }
}

/// No property beyond those listed: the document says exactly what an answer holds.
fn closed(mut object: Object) -> Object {
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    object
}

fn described(mut object: Object, description: &str) -> Object {
    object.description = Some(description.into());
    object
}

/// `{"_tag": tag, ...object}`, as [`crate::challenges::wire::Tagged`] writes it.
fn tagged(tag: &str, mut object: Object, description: &str) -> Object {
    object
        .properties
        .insert(TAG.into(), ObjectBuilder::new().schema_type(Type::String).enum_values(Some([tag])).into());
    object.required.retain(|name| name != TAG);
    object.required.insert(0, TAG.into());
    described(closed(object), description)
}

/// [`WireError`] with one tag; `retryAfterSeconds` only where the API writes it.
fn error_schema(tag: ErrorTag) -> Object {
    let mut object = tagged(tag.as_str(), object_of(WireError::schema(), &BTreeMap::new()), meaning(tag));
    object.required.retain(|name| name == TAG);
    object.required.push("message".into());
    if tag == ErrorTag::ChallengeRateLimited {
        object.required.push("retryAfterSeconds".into());
    } else {
        object.properties.remove("retryAfterSeconds");
    }
    object
}

/// The body of a 500 or 503, which names no tag: the cause is logged, never shown.
fn service_failure(description: &str) -> Object {
    described(
        closed(
            ObjectBuilder::new()
                .property("message", ObjectBuilder::new().schema_type(Type::String))
                .required("message")
                .build(),
        ),
        description,
    )
}

pub(super) fn error_schema_name(tag: ErrorTag) -> String {
    format!("{}Error", tag.as_str().trim_start_matches("@error/"))
}

/// What each error tells a client to do.
fn meaning(tag: ErrorTag) -> &'static str {
    match tag {
        ErrorTag::Forbidden => "The API key is missing or wrong for this tenancy.",
        ErrorTag::NotFound => "No pending challenge has this id: verified, deleted, purged or never made.",
        ErrorTag::ChallengeRateLimited => {
            "Too many challenges or failed verifications for this email; `retryAfterSeconds` says when to try again."
        }
        ErrorTag::InvalidChallenge => "Unknown, already used, or the secret does not match. Start a new challenge.",
        ErrorTag::InvalidChallengeCode => "Wrong code; attempts remain.",
        ErrorTag::ChallengeExpired => "The code has expired. Create a new challenge.",
        ErrorTag::ChallengeAttemptsExceeded => "Too many wrong codes. Create a new challenge.",
        ErrorTag::BadRequest => {
            "Malformed input: not JSON, a missing or invalid field (the message names it), or a body over 16 KiB (413)."
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::ResponseError;
    use serde_json::Value;

    use super::super::calls;
    use super::*;
    use crate::challenges::model::{ChallengeId, Code, Metadata, Purpose, Secret, UserId};
    use crate::challenges::wire::Tagged;

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().expect("an object").keys().cloned().collect()
    }

    /// The properties and required properties of a component.
    fn documented(components: &Components, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get(name) else {
            panic!("no object schema {name}");
        };
        (object.properties.keys().cloned().collect(), object.required.iter().cloned().collect())
    }

    /// What serde writes is what the document lists: a field renamed, added or dropped fails here.
    #[tokio::test]
    async fn each_answer_lists_exactly_the_properties_the_api_writes() {
        let challenge = Challenge {
            challenge_id: ChallengeId::new("abc".into()),
            purpose: Purpose::from_static("signup"),
            email: EmailAddress::parse("jane@example.com").unwrap(),
            user_id: Some(UserId::parse("user-1").unwrap()),
            created_at: 1,
            expires_at: 2,
            metadata: Metadata::from_json_text(r#"{"a":1}"#).unwrap(),
        };
        let message = Message { subject: "s".into(), html: "h".into(), text: "t".into() };
        let created = CreatedChallenge {
            challenge: challenge.clone(),
            secret: Secret::new("secret".into()),
            code: Code::new("123456".into()),
            message,
        };
        let mut written = vec![
            (tag::CHALLENGE.to_owned(), serde_json::to_value(Tagged::new(tag::CHALLENGE, &challenge)).unwrap()),
            ("CreatedChallenge".to_owned(), serde_json::to_value(&created).unwrap()),
            (
                tag::CHALLENGE_CREATED.to_owned(),
                serde_json::to_value(Tagged::new(tag::CHALLENGE_CREATED, Wrapped { challenge: &created })).unwrap(),
            ),
            (
                tag::CHALLENGE_DELETED.to_owned(),
                serde_json::to_value(Tagged::new(tag::CHALLENGE_DELETED, Nothing {})).unwrap(),
            ),
        ];
        for call in calls() {
            for error in call.errors {
                let body = actix_web::body::to_bytes(error.error_response().into_body()).await.unwrap();
                written.push((error_schema_name(error.tag().unwrap()), serde_json::from_slice(&body).unwrap()));
            }
        }

        let components = components();
        for (name, value) in written {
            let (properties, required) = documented(&components, &name);
            assert_eq!(properties, keys(&value), "{name}: {value}");
            assert!(required.is_subset(&keys(&value)), "{name} requires more than {value}");
        }
    }
}
