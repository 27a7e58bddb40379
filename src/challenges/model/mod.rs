//! The challenge's vocabulary, one file per concept: each value that can be wrong has a type
//! that parses it once, so inside the crate a value of one of these types is known to be valid.

mod challenge;
mod metadata;
mod purpose;
mod recipient;

pub use challenge::{Challenge, ChallengeId, Code, CreatedChallenge, Message, NewChallenge, Secret};
pub use metadata::Metadata;
pub use purpose::Purpose;
pub use recipient::{RecipientName, UserId};
