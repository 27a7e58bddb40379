//! The mailbox challenge service: one-time codes with a server-kept secret, expiry, attempts,
//! single use, invalidation and rate limits, behind the hosted service's REST API.

pub mod api;
pub mod engine;
pub mod error;
pub mod generate;
pub mod hashing;
pub mod message;
pub mod model;
pub mod openapi;
pub mod policy;
pub mod purge;
pub mod store;
pub mod tenancy;
pub mod wire;

pub use engine::ChallengeService;
pub use error::ChallengeError;
pub use policy::Policy;
