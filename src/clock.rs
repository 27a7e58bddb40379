//! The one source of "now", so tests can move time instead of sleeping, and how a moment reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// A clock that moves only when told to; shared by every clone.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start_ms: i64) -> Self {
        Self::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Self::System => SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
            Self::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        match self {
            Self::System => panic!("only a manual clock can be advanced"),
            Self::Manual(now) => {
                now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
            }
        }
    }
}

/// `22 Nov 2026, 16:04 UTC`.
pub fn format_time(epoch_ms: i64) -> String {
    let Some(at) = utc(epoch_ms) else { return "unknown".into() };
    let month = &format!("{:?}", at.month())[..3];
    format!("{} {month} {}, {:02}:{:02} UTC", at.day(), at.year(), at.hour(), at.minute())
}

/// `2026-11-22T16:04:05Z`, for a `<time datetime>` that a browser script can read.
pub fn iso_time(epoch_ms: i64) -> String {
    let Some(at) = utc(epoch_ms) else { return String::new() };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn utc(epoch_ms: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22 16:04:05.678 UTC
    const MOMENT: i64 = 1_795_363_445_678;

    #[test]
    fn a_moment_reads_in_utc_for_people_and_in_iso_8601_for_scripts() {
        assert_eq!(format_time(MOMENT), "22 Nov 2026, 16:04 UTC");
        assert_eq!(iso_time(MOMENT), "2026-11-22T16:04:05Z");
    }

    #[test]
    fn a_moment_out_of_range_reads_as_unknown() {
        assert_eq!(format_time(i64::MAX), "unknown");
        assert_eq!(iso_time(i64::MAX), "");
    }
}
