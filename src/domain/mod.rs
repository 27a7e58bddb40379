//! The vocabulary every layer shares: email addresses, account ids and names, devices, secrets, the
//! one constant-time comparison, and counts and waits in words. It imports nothing of the project, so anything may use it.

mod account;
mod device;
mod email;
mod input;
mod secret;
mod words;

pub use account::{AccountId, DisplayName};
pub use device::Device;
pub use email::EmailAddress;
pub use input::{InvalidInput, bounded_text, is_format_character, without_format_characters};
pub use secret::{SecretString, constant_time_eq, hmac_sha256, random_token};
pub use words::{expires_in_words, plural, wait_in_words};
