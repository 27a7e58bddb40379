//! What the challenge engine counts: every create, verify and refusal it answers, whoever asked
//! (the REST API or the sample app in-process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The `_tag` a failed verify answered, or `internal` for a failure of the service itself.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Failure {
    tag: &'static str,
}

#[derive(Clone, Default)]
pub struct ChallengeMetrics {
    created: Counter,
    verified: Counter,
    verify_failures: Family<Failure, Counter>,
    rate_limited: Counter,
}

impl ChallengeMetrics {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register("challenges_created", "Challenges created (and sent, when asked)", self.created.clone());
        registry.register("challenges_verified", "Challenges verified with the right code", self.verified.clone());
        registry.register(
            "challenge_verifications_failed",
            "Verifies refused, by the _tag they answered",
            self.verify_failures.clone(),
        );
        registry.register(
            "challenge_creates_rate_limited",
            "Creates refused by the per-email rate limit",
            self.rate_limited.clone(),
        );
    }

    pub fn created(&self) {
        self.created.inc();
    }

    pub fn verified(&self) {
        self.verified.inc();
    }

    /// A verify refused with the wire tag `tag` (`None`: the service failed).
    pub fn verify_failed(&self, tag: Option<&'static str>) {
        self.verify_failures.get_or_create(&Failure { tag: tag.unwrap_or("internal") }).inc();
    }

    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }
}
