//! The device a session was opened on, named the way its owner would recognise it ("Chrome on
//! Android"), read from the browser's User-Agent header.
//!
//! The header is whatever the client chose to send. Only its first [`MAX_READ`] bytes are
//! looked at, and the description is put together from a fixed vocabulary, so no byte of the
//! header ever reaches a page or the database.

use std::fmt;

/// Real User-Agent headers are 100–300 bytes; nothing past this is worth scanning.
const MAX_READ: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    browser: Option<Browser>,
    platform: Option<Platform>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Browser {
    Edge,
    Opera,
    SamsungInternet,
    Firefox,
    Chrome,
    Safari,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    IPhone,
    IPad,
    Android,
    Windows,
    ChromeOs,
    MacOs,
    Linux,
}

/// The first browser whose token the header has. The order matters: Chromium-based browsers
/// also say `Chrome/`, and nearly every browser says `Safari/`.
const BROWSERS: &[(Browser, &[&str])] = &[
    (Browser::Edge, &["Edg/", "EdgA/", "EdgiOS/", "Edge/"]),
    (Browser::Opera, &["OPR/", "OPT/", "Opera"]),
    (Browser::SamsungInternet, &["SamsungBrowser/"]),
    (Browser::Firefox, &["Firefox/", "FxiOS/"]),
    (Browser::Chrome, &["CriOS/", "Chrome/"]),
    (Browser::Safari, &["Safari/"]),
];

/// The first platform whose token the header has: iPhones say "like Mac OS X", Android says
/// "Linux".
const PLATFORMS: &[(Platform, &[&str])] = &[
    (Platform::IPhone, &["iPhone"]),
    (Platform::IPad, &["iPad"]),
    (Platform::Android, &["Android"]),
    (Platform::Windows, &["Windows"]),
    (Platform::ChromeOs, &["CrOS"]),
    (Platform::MacOs, &["Macintosh", "Mac OS X"]),
    (Platform::Linux, &["Linux"]),
];

impl Device {
    /// The device a `User-Agent` header describes; an empty or unfamiliar one is an unknown browser.
    pub fn from_user_agent(user_agent: &str) -> Self {
        let header = first_bytes(user_agent, MAX_READ);
        Self { browser: first_named(BROWSERS, header), platform: first_named(PLATFORMS, header) }
    }
}

fn first_named<T: Copy>(table: &[(T, &[&str])], header: &str) -> Option<T> {
    table.iter().find(|(_, tokens)| tokens.iter().any(|token| header.contains(token))).map(|(named, _)| *named)
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn first_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let browser = self.browser.map_or("Unknown browser", Browser::name);
        match self.platform {
            Some(platform) => write!(f, "{browser} on {}", platform.name()),
            None => f.write_str(browser),
        }
    }
}

impl Browser {
    fn name(self) -> &'static str {
        match self {
            Self::Edge => "Edge",
            Self::Opera => "Opera",
            Self::SamsungInternet => "Samsung Internet",
            Self::Firefox => "Firefox",
            Self::Chrome => "Chrome",
            Self::Safari => "Safari",
        }
    }
}

impl Platform {
    fn name(self) -> &'static str {
        match self {
            Self::IPhone => "iPhone",
            Self::IPad => "iPad",
            Self::Android => "Android",
            Self::Windows => "Windows",
            Self::ChromeOs => "ChromeOS",
            Self::MacOs => "macOS",
            Self::Linux => "Linux",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(user_agent: &str) -> String {
        Device::from_user_agent(user_agent).to_string()
    }

    #[test]
    fn real_user_agents_name_their_browser_and_platform() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox on Windows"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "Chrome on macOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                "Chrome on iPhone",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
                "Firefox on iPhone",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iPad",
            ),
            ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", "Firefox on Android"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                "Samsung Internet on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
                "Edge on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
                "Opera on Windows",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            // Chromium run headless, as the browser suite runs it.
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
        ];
        for (user_agent, expected) in cases {
            assert_eq!(described(user_agent), expected, "{user_agent}");
        }
    }

    #[test]
    fn a_missing_or_unfamiliar_user_agent_is_an_unknown_browser() {
        assert_eq!(described(""), "Unknown browser");
        assert_eq!(described("curl/8.5.0"), "Unknown browser");
        assert_eq!(
            described("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            "Unknown browser"
        );
        assert_eq!(described("SomeApp/1.0 (Windows NT 10.0)"), "Unknown browser on Windows");
        assert_eq!(described("Mozilla/5.0 Firefox/125.0"), "Firefox");
    }

    #[test]
    fn only_the_start_of_a_long_header_is_read_and_nothing_of_it_is_repeated() {
        let past_the_limit = format!("{}Firefox/125.0 (Windows)", "x".repeat(MAX_READ));
        assert_eq!(described(&past_the_limit), "Unknown browser");

        let markup = "<script>alert(1)</script> Firefox/125.0";
        assert_eq!(described(markup), "Firefox");
    }

    #[test]
    fn a_header_cut_inside_a_character_does_not_panic() {
        // 3-byte characters: the limit falls inside one.
        assert_eq!(MAX_READ % 3, 2);
        let multibyte = format!("{}Chrome/1", "€".repeat(MAX_READ));
        assert_eq!(described(&multibyte), "Unknown browser");
        assert_eq!(described("€ Chrome/1 (Android)"), "Chrome on Android");
    }
}
