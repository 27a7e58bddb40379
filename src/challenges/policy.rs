//! How the engine behaves: expiry, attempts, rate limits and retention. Settings build one;
//! the defaults are those of the hosted service.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Policy {
    pub ttl: Duration,
    pub max_attempts: u32,
    pub create_limit: u32,
    pub create_window: Duration,
    /// NIST SP 800-63B caps consecutive failed verifications at 100.
    pub failure_limit: u32,
    pub failure_window: Duration,
    /// How long expired and consumed challenges stay before the purge removes them.
    pub retention: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            max_attempts: 5,
            create_limit: 5,
            create_window: Duration::from_secs(600),
            failure_limit: 100,
            failure_window: Duration::from_secs(24 * 3600),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}
