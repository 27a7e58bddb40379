//! Numbers as a person reads them: counts with their noun, waits and expiries in words.

/// `1 attempt`, `4 attempts`: the count with its noun, plural unless it is one. For the
/// nouns this app counts, which all take an `s`.
pub fn plural(count: u64, noun: &str) -> String {
    let ending = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{ending}")
}

/// `45 seconds`, `about 10 minutes`: seconds under a minute, else minutes rounded up, so that
/// the wait is never longer than it says.
pub fn wait_in_words(seconds: u64) -> String {
    if seconds < 60 { plural(seconds, "second") } else { format!("about {}", plural(seconds.div_ceil(60), "minute")) }
}

/// `45 seconds`, `9 minutes`: how long something stays valid, seconds under a minute, else
/// whole minutes rounded down, so that it never promises more time than there is.
pub fn expires_in_words(seconds: u64) -> String {
    if seconds < 60 { plural(seconds, "second") } else { plural(seconds / 60, "minute") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "attempt"), "1 attempt");
        assert_eq!(plural(0, "attempt"), "0 attempts");
        assert_eq!(plural(4, "attempt"), "4 attempts");
    }

    #[test]
    fn waits_under_a_minute_are_in_seconds_and_longer_ones_in_minutes_rounded_up() {
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(59), "59 seconds");
        assert_eq!(wait_in_words(60), "about 1 minute");
        assert_eq!(wait_in_words(61), "about 2 minutes");
        assert_eq!(wait_in_words(538), "about 9 minutes");
        assert_eq!(wait_in_words(582), "about 10 minutes");
        assert_eq!(wait_in_words(600), "about 10 minutes");
    }

    #[test]
    fn expiries_under_a_minute_are_in_seconds_and_longer_ones_in_minutes_rounded_down() {
        assert_eq!(expires_in_words(1), "1 second");
        assert_eq!(expires_in_words(30), "30 seconds");
        assert_eq!(expires_in_words(59), "59 seconds");
        assert_eq!(expires_in_words(60), "1 minute");
        assert_eq!(expires_in_words(119), "1 minute");
        assert_eq!(expires_in_words(599), "9 minutes");
        assert_eq!(expires_in_words(600), "10 minutes");
    }
}
