//! The REST API's OpenAPI 3.1 document, generated from the code it describes so that it cannot
//! drift: the paths that `api::configure` mounts, the schemas of the types the handlers read and
//! write (with the limits of their parsers), and each error as `ResponseError` answers it. Served
//! at `GET /openapi.json`; `openapi.json` at the repository root is a copy a test keeps equal.

mod schemas;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa::openapi::content::Content;
use utoipa::openapi::header::Header;
use utoipa::openapi::info::{Info, License};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, OneOf, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required};

use self::schemas::{BEARER, SERVICE_FAILURE, SERVICE_UNAVAILABLE, components, error_schema_name};
use super::api::{self, CreateBody, VerifyBody};
use super::error::{ChallengeError, UNAVAILABLE_RETRY_SECONDS};
use super::wire::{ErrorTag, tag};

const JSON: &str = "application/json";
const CREATE: &str = "createChallenge";

/// `GET /openapi.json`.
pub async fn serve() -> HttpResponse {
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| document().to_pretty_json().expect("the OpenAPI document serializes"));
    HttpResponse::Ok().content_type(ContentType::json()).body(DOCUMENT.as_str())
}

/// The whole document.
pub fn document() -> OpenApi {
    let info = Info::builder()
        .title("Mailbox challenges REST API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Email one-time codes: create a challenge (a code for the person and a secret for your server), \
             read it back, verify it, delete it. Wire-compatible with the hosted service's REST API. Every \
             route is served at the root of the listener and again under `/v2/`.",
        ))
        .license(Some(License::builder().name("MIT OR Apache-2.0").identifier(Some("MIT OR Apache-2.0")).build()))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths())
        .components(Some(components()))
        .security(Some([SecurityRequirement::new(BEARER, Vec::<String>::new())]))
        .build()
}

/// One call of the API, as mounted under each prefix.
struct Call {
    id: &'static str,
    method: HttpMethod,
    path: &'static str,
    summary: &'static str,
    description: &'static str,
    /// The name of the request body's schema.
    request: Option<Cow<'static, str>>,
    /// The status, the schema of the answer (named by its tag) and what it means.
    success: (u16, &'static str, &'static str),
    /// One of each error the call can answer with.
    errors: Vec<ChallengeError>,
}

fn calls() -> [Call; 4] {
    let bad_request = || ChallengeError::BadRequest("The request is malformed; the message names the field.".into());
    [
        Call {
            id: CREATE,
            method: HttpMethod::Post,
            path: api::CHALLENGES,
            summary: "Create a challenge",
            description: "Makes a one-time code and a secret for an email address, renders the message, and \
                          sends it unless `sendEmail` is false. Only this answer carries the secret and the code: \
                          keep the secret server-side.",
            request: Some(CreateBody::name()),
            success: (201, tag::CHALLENGE_CREATED, "Created; the challenge with its secret, code and message."),
            errors: vec![
                bad_request(),
                ChallengeError::BodyTooLarge,
                ChallengeError::Forbidden,
                ChallengeError::RateLimited { retry_after_seconds: 1 },
            ],
        },
        Call {
            id: "getChallenge",
            method: HttpMethod::Get,
            path: api::CHALLENGE,
            summary: "Read a pending challenge",
            description: "A pending challenge (an expired one too, until it is purged); never its secret or code.",
            request: None,
            success: (200, tag::CHALLENGE, "The challenge."),
            errors: vec![ChallengeError::Forbidden, ChallengeError::NotFound],
        },
        Call {
            id: "verifyChallenge",
            method: HttpMethod::Post,
            path: api::VERIFY,
            summary: "Verify a code",
            description: "Checks, in order: unknown or used, wrong secret (not counted as an attempt), expired, \
                          attempts used up, wrong code. The right code consumes the challenge: it verifies once.",
            request: Some(VerifyBody::name()),
            success: (200, tag::CHALLENGE_VERIFIED, "Verified; the challenge is consumed."),
            errors: vec![
                bad_request(),
                ChallengeError::BodyTooLarge,
                ChallengeError::Forbidden,
                ChallengeError::InvalidChallenge,
                ChallengeError::InvalidChallengeCode,
                ChallengeError::ChallengeExpired,
                ChallengeError::ChallengeAttemptsExceeded,
            ],
        },
        Call {
            id: "deleteChallenge",
            method: HttpMethod::Delete,
            path: api::CHALLENGE,
            summary: "Delete a challenge",
            description: "Idempotent: also answers 202 when there was no such challenge.",
            request: None,
            success: (202, tag::CHALLENGE_DELETED, "Deleted, or there was nothing to delete."),
            errors: vec![ChallengeError::Forbidden],
        },
    ]
}

fn paths() -> Paths {
    let mut paths = Paths::new();
    for prefix in api::PREFIXES {
        for call in calls() {
            let operation = operation(&call, prefix);
            paths.add_path_operation(format!("{prefix}{}", call.path), vec![call.method], operation);
        }
    }
    paths
}

/// Operation ids are unique in a document: those under `/v2/` end in `V2`.
fn operation_id(id: &str, prefix: &str) -> String {
    let suffix = prefix.trim_start_matches('/').to_uppercase();
    format!("{id}{suffix}")
}

fn operation(call: &Call, prefix: &str) -> Operation {
    let mut builder = OperationBuilder::new()
        .operation_id(Some(operation_id(call.id, prefix)))
        .summary(Some(call.summary))
        .description(Some(call.description))
        .parameters(Some(path_parameters(call.path)));
    if let Some(request) = &call.request {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(JSON, Content::new(Some(Ref::from_schema_name(request.as_ref()))))
                .build(),
        ));
    }
    let (status, schema, description) = call.success;
    let mut success = ResponseBuilder::new().description(description).content(JSON, json_of(schema));
    if call.id == CREATE {
        // utoipa 5 writes a Link's `operationId` as `operation_id`, so the links go in as JSON.
        success = success.extensions(Some([("links", links_from_create(prefix))].into_iter().collect()));
    }
    builder = builder.response(status.to_string(), success.build());
    for (status, errors) in by_status(&call.errors) {
        builder = builder.response(status.to_string(), error_response(&errors));
    }
    let (status, unavailable) = unavailable_response();
    builder.response(status, unavailable).response("500", service_failure_response()).build()
}

/// The parameters named in a route template such as `/{tenancyId}/challenges`.
fn path_parameters(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let description = match name {
                "tenancyId" => "The tenancy whose API key authorizes the call.",
                "challengeId" => "The `challengeId` that create returned.",
                other => panic!("route parameter {other} has no description"),
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1))))
                .build()
        })
        .collect()
}

/// Where a new challenge leads: what a client (or a fuzzer) can do next with create's answer.
fn links_from_create(prefix: &str) -> Value {
    let id = "$response.body#/challenge/challengeId";
    let tenancy = "$request.path.tenancyId";
    json!({
        "getChallenge": {
            "operationId": operation_id("getChallenge", prefix),
            "parameters": { "tenancyId": tenancy, "challengeId": id },
        },
        "verifyChallenge": {
            "operationId": operation_id("verifyChallenge", prefix),
            "parameters": { "tenancyId": tenancy },
            "requestBody": {
                "challengeId": id,
                "secret": "$response.body#/challenge/secret",
                "code": "$response.body#/challenge/code",
            },
        },
        "deleteChallenge": {
            "operationId": operation_id("deleteChallenge", prefix),
            "parameters": { "tenancyId": tenancy, "challengeId": id },
        },
    })
}

/// The errors of a call grouped by the status each is answered with.
fn by_status(errors: &[ChallengeError]) -> BTreeMap<u16, Vec<&ChallengeError>> {
    let mut grouped: BTreeMap<u16, Vec<&ChallengeError>> = BTreeMap::new();
    for error in errors {
        grouped.entry(error.status_code().as_u16()).or_default().push(error);
    }
    grouped
}

fn error_response(errors: &[&ChallengeError]) -> Response {
    let tags: Vec<ErrorTag> = errors.iter().map(|e| e.tag().expect("a documented error has a tag")).collect();
    let names: Vec<String> = tags.iter().map(|tag| format!("`{}`", tag.as_str())).collect();
    let schema: RefOr<Schema> = match tags.as_slice() {
        [one] => Ref::from_schema_name(error_schema_name(*one)).into(),
        many => {
            let mut one_of = OneOf::new();
            one_of.items = many.iter().map(|tag| Ref::from_schema_name(error_schema_name(*tag)).into()).collect();
            Schema::OneOf(one_of).into()
        }
    };
    let mut response = ResponseBuilder::new().description(names.join(", ")).content(JSON, Content::new(Some(schema)));
    // Rendered as the API renders it, so the document shows the headers it really sends.
    if errors.iter().any(|e| e.error_response().headers().contains_key(header::RETRY_AFTER)) {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
        let retry_after = Header::builder()
            .schema(seconds)
            .description(Some("Seconds until a slot frees; equal to `retryAfterSeconds` in the body."))
            .build();
        response = response.header("Retry-After", retry_after);
    }
    response.build()
}

/// The answer of every call when the database cannot serve it for now: any call reads or
/// writes it. Its status and `Retry-After` come from rendering that error as the API does.
fn unavailable_response() -> (String, Response) {
    let rendered = database_unavailable_error().error_response();
    let retry_after = rendered.headers().get(header::RETRY_AFTER).expect("a 503 says when to retry");
    let seconds = retry_after.to_str().ok().and_then(|s| s.parse::<u64>().ok()).expect("Retry-After in seconds");
    let header = Header::builder()
        .schema(ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([seconds])))
        .description(Some(format!("Seconds to wait before trying again: always {UNAVAILABLE_RETRY_SECONDS}.")))
        .build();
    let response = ResponseBuilder::new()
        .description(
            "The database cannot serve the call right now (its disk is full or read-only, or the server is \
             unreachable or shutting down); nothing was done. Retry after `Retry-After` seconds.",
        )
        .content(JSON, json_of(SERVICE_UNAVAILABLE))
        .header("Retry-After", header)
        .build();
    (rendered.status().as_u16().to_string(), response)
}

/// A failure the API answers as the database being unavailable for now.
fn database_unavailable_error() -> ChallengeError {
    ChallengeError::Storage(sqlx::Error::PoolTimedOut)
}

fn service_failure_response() -> Response {
    ResponseBuilder::new()
        .description(
            "The service failed (a fault of its own, or for create with `sendEmail` its mail server); nothing \
             was done. Try again later.",
        )
        .content(JSON, json_of(SERVICE_FAILURE))
        .build()
}

fn json_of(schema_name: &str) -> Content {
    Content::new(Some(Ref::from_schema_name(schema_name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                found.extend(object.get("$ref").and_then(Value::as_str).map(str::to_owned));
                object.values().for_each(|v| references(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_names_a_schema_of_the_document() {
        let document = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(!found.is_empty());
        for reference in found {
            let pointer = reference.strip_prefix('#').expect("a reference inside the document");
            assert!(document.pointer(pointer).is_some(), "{reference} names nothing");
        }
    }

    /// The body, status and header the API sends when its database is in trouble are the ones
    /// each operation documents.
    #[tokio::test]
    async fn every_operation_documents_the_unavailable_answer_as_the_api_renders_it() {
        let rendered = database_unavailable_error().error_response();
        assert_eq!(rendered.status(), actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
        let retry_after =
            rendered.headers().get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse::<u64>().unwrap();
        let body: Value = serde_json::from_slice(&actix_web::body::to_bytes(rendered.into_body()).await.unwrap())
            .expect("a JSON body");
        let document = serde_json::to_value(document()).unwrap();
        let schema = &document["components"]["schemas"][SERVICE_UNAVAILABLE];
        let written: Vec<&String> = body.as_object().unwrap().keys().collect();
        let listed: Vec<&String> = schema["properties"].as_object().expect("listed properties").keys().collect();
        assert_eq!(written, listed, "{body} against {schema}");
        assert_eq!(schema["additionalProperties"], false);

        let mut operations = 0;
        for item in document["paths"].as_object().unwrap().values() {
            for (method, operation) in item.as_object().unwrap() {
                let answer = &operation["responses"]["503"];
                let reference = &answer["content"][JSON]["schema"]["$ref"];
                assert_eq!(reference, &format!("#/components/schemas/{SERVICE_UNAVAILABLE}"), "{method}: {answer}");
                assert_eq!(answer["headers"]["Retry-After"]["schema"]["enum"], json!([retry_after]), "{method}");
                operations += 1;
            }
        }
        assert_eq!(operations, 4 * api::PREFIXES.len());
    }

    #[test]
    fn every_route_is_documented_under_each_prefix() {
        let paths = document().paths.paths;
        for prefix in api::PREFIXES {
            for (path, methods) in [(api::CHALLENGES, 1), (api::VERIFY, 1), (api::CHALLENGE, 2)] {
                let item = paths.get(&format!("{prefix}{path}")).unwrap_or_else(|| panic!("{prefix}{path}"));
                let documented = [&item.get, &item.post, &item.delete].iter().filter(|op| op.is_some()).count();
                assert_eq!(documented, methods, "{prefix}{path}");
            }
        }
        assert_eq!(paths.len(), 3 * api::PREFIXES.len());
    }
}
