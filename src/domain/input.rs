//! Why a value was refused, and the one check shared by free-text fields.

/// Why a value was refused, phrased for the person or client who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl InvalidInput {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// A free-text `field` of at most `max` characters and no control characters.
pub fn bounded_text(field: &str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    if raw.chars().count() > max {
        return Err(InvalidInput::new(format!("{field} must be at most {max} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(InvalidInput::new(format!("{field} must not contain control characters")));
    }
    Ok(raw.to_owned())
}
