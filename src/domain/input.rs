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

/// Whether `c` is a Unicode format character (general category Cf): invisible, and able to
/// reorder what a reader sees (U+202E turns `gnp.exe` around) or to hide text between letters.
pub fn is_format_character(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}'
        | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// `raw` without its format characters, for every name a person gives.
pub fn without_format_characters(raw: &str) -> String {
    raw.chars().filter(|&c| !is_format_character(c)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_are_stripped_and_letters_kept() {
        assert_eq!(without_format_characters("Ann\u{202E}gnp.exe\u{200B}\u{FEFF}\u{2066}"), "Anngnp.exe");
        assert_eq!(without_format_characters("Zoë 山田 O'Brien"), "Zoë 山田 O'Brien");
    }
}
