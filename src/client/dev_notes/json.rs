//! JSON bodies as the developer notes show them, with whatever carries a challenge's secret or
//! code masked.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the notes show in place of a secret or a code.
pub const MASK: &str = "•••";

/// A JSON body that carries no secret and no code. Made only by [`ShownJson::of`] and
/// [`ShownJson::from_value`], which mask them, so a note cannot hold one. Kept as JSON (in the
/// session, a value within the notes rather than a string of JSON escaped within them) and
/// pretty-printed only when shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShownJson(Value);

impl ShownJson {
    /// `body` as it goes over the wire, masked.
    pub fn of(body: &impl Serialize) -> Self {
        let value = serde_json::to_value(body).unwrap_or_else(|err| Value::String(format!("(not JSON: {err})")));
        Self::from_value(value)
    }

    /// A body built or trimmed for the notes, masked.
    pub fn from_value(mut value: Value) -> Self {
        mask(&mut value);
        Self(value)
    }

    /// The body as the panel shows it, indented.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_default()
    }
}

/// Masks `secret` and `code` wherever they are, and the rendered email (`message.html` and
/// `message.text` of a created challenge), which shows the code. The subject never holds it.
fn mask(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match (name.as_str(), &mut *field) {
                    ("secret" | "code", _) => *field = Value::String(MASK.into()),
                    ("message", Value::Object(message)) => {
                        for part in ["html", "text"] {
                            if let Some(body) = message.get_mut(part) {
                                *body = Value::String(MASK.into());
                            }
                        }
                    }
                    _ => mask(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "ABC123def-GHI456jkl-MNO789pqr";
    const CODE: &str = "042917";

    #[test]
    fn a_created_challenge_shows_neither_its_secret_nor_its_code() {
        let created = json!({
            "_tag": "ChallengeCreated",
            "challenge": {
                "challengeId": "ch_1", "purpose": "signup", "email": "sam@example.com",
                "secret": SECRET, "code": CODE,
                "message": { "subject": "Confirm your email address", "html": format!("<b>{CODE}</b>"), "text": format!("Your code: {CODE}") },
            }
        });

        let shown = ShownJson::of(&created);

        let pretty = shown.pretty();
        assert!(!pretty.contains(SECRET) && !pretty.contains(CODE), "{pretty}");
        let back: Value = serde_json::from_str(&pretty).unwrap();
        let challenge = &back["challenge"];
        for masked in
            [&challenge["secret"], &challenge["code"], &challenge["message"]["html"], &challenge["message"]["text"]]
        {
            assert_eq!(masked, MASK);
        }
        assert_eq!(challenge["challengeId"], "ch_1", "the rest is shown as sent");
        assert_eq!(challenge["message"]["subject"], "Confirm your email address");
    }

    #[test]
    fn a_body_is_kept_as_json_not_as_a_string_of_it() {
        let shown = ShownJson::of(&json!({ "challengeId": "ch_1", "purpose": "login" }));

        // In the session it nests as an object: no second layer of escaped quotes to write and read.
        let kept = serde_json::to_string(&shown).unwrap();
        assert_eq!(kept, r#"{"challengeId":"ch_1","purpose":"login"}"#);
        assert_eq!(serde_json::from_str::<ShownJson>(&kept).unwrap(), shown, "read back as it was");
        assert!(shown.pretty().contains("\n  \"challengeId\": \"ch_1\""), "shown indented: {}", shown.pretty());
    }

    #[test]
    fn a_verify_request_is_masked_at_any_depth_and_an_error_message_is_kept() {
        let shown = ShownJson::of(&json!([{ "challengeId": "ch_1", "secret": SECRET, "code": CODE }]));
        assert_eq!(
            serde_json::from_str::<Value>(&shown.pretty()).unwrap(),
            json!([{ "challengeId": "ch_1", "secret": MASK, "code": MASK }])
        );

        let error = json!({ "_tag": "@error/InvalidChallengeCode", "message": "the code is wrong" });
        assert_eq!(serde_json::from_str::<Value>(&ShownJson::of(&error).pretty()).unwrap(), error);
    }
}
