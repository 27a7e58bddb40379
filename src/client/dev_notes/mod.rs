//! Developer notes: what the app just did, in words a reader of the demo can follow, for the
//! "What just happened" panel of development builds. A note is one step: a call to the challenge
//! service, the checks the app made on an answer, or a step of a WebAuthn ceremony.
//!
//! They live in the client layer because it is the lowest that writes them: the recording client
//! here, the flows' checks and the passkey endpoints above all write into the one [`Notebook`] of
//! the running request, and the web layer keeps them in the session and shows them. No note can
//! carry a secret or a code: every JSON body in one is a [`ShownJson`], which masks them.

mod json;
mod notebook;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use self::json::{MASK, ShownJson};
pub use self::notebook::{Notebook, record};

/// How many notes a session keeps; the oldest make way. Enough for a flow and a resend or two,
/// small enough that the session state stays a few KiB.
pub const KEPT_PER_SESSION: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevNote {
    pub title: String,
    /// What happened and why, in plain words; `backticks` mark names from the wire.
    pub explanation: String,
    pub exchange: Option<Exchange>,
    pub checks: Vec<Check>,
}

impl DevNote {
    pub fn new(title: &str, explanation: &str) -> Self {
        Self { title: title.into(), explanation: explanation.into(), exchange: None, checks: Vec::new() }
    }

    pub fn with_exchange(self, exchange: Exchange) -> Self {
        Self { exchange: Some(exchange), ..self }
    }

    pub fn with_checks(self, checks: Checks) -> Self {
        Self { checks: checks.0, ..self }
    }
}

/// One request and its answer, as the wire carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    /// `None`: no status to show (no answer came, or the step has none of its own).
    pub status: Option<u16>,
    pub request: Option<ShownJson>,
    pub response: Option<ShownJson>,
}

/// One thing the app checked: what it expected, what it found, and whether they agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

/// The checks of one step, in the order they were made.
#[derive(Debug, Default)]
pub struct Checks(Vec<Check>);

impl Checks {
    /// Whether `actual` is `expected`, noted either way: the comparison the app acts on is the
    /// one shown.
    pub fn same(&mut self, name: &str, expected: &str, actual: &str) -> bool {
        self.outcome(name, expected, actual, expected == actual)
    }

    /// A check decided elsewhere (by a library, say), noted with its outcome.
    pub fn outcome(&mut self, name: &str, expected: &str, actual: &str, ok: bool) -> bool {
        self.0.push(Check { name: name.into(), expected: expected.into(), actual: actual.into(), ok });
        ok
    }
}

/// A note and when it was made (epoch ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub at: i64,
    pub note: DevNote,
}

/// The notes of one browser session, oldest first, never more than [`KEPT_PER_SESSION`].
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionNotes(VecDeque<Recorded>);

impl SessionNotes {
    pub fn extend(&mut self, notes: impl IntoIterator<Item = Recorded>) {
        self.0.extend(notes);
        let excess = self.0.len().saturating_sub(KEPT_PER_SESSION);
        self.0.drain(..excess);
    }

    pub fn newest_first(&self) -> impl Iterator<Item = &Recorded> {
        self.0.iter().rev()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(at: i64) -> Recorded {
        Recorded { at, note: DevNote::new("step", "words") }
    }

    #[test]
    fn a_session_keeps_only_its_newest_notes() {
        let mut notes = SessionNotes::default();
        notes.extend((0..10).map(recorded));
        notes.extend((10..15).map(recorded));
        let kept: Vec<i64> = notes.newest_first().map(|r| r.at).collect();
        assert_eq!(kept.len(), KEPT_PER_SESSION);
        assert_eq!(kept.first(), Some(&14), "newest first");
        assert_eq!(kept.last(), Some(&(15 - KEPT_PER_SESSION as i64)), "the oldest made way");
    }

    #[test]
    fn checks_note_what_was_expected_and_found() {
        let mut checks = Checks::default();
        assert!(checks.same("purpose", "login", "login"));
        assert!(!checks.same("email", "a@example.com", "b@example.com"));
        let note = DevNote::new("Checks", "words").with_checks(checks);
        let oks: Vec<(&str, bool)> = note.checks.iter().map(|c| (c.name.as_str(), c.ok)).collect();
        assert_eq!(oks, [("purpose", true), ("email", false)]);
        assert_eq!(note.checks[1].actual, "b@example.com");
    }
}
