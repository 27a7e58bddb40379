//! The stylesheet's buttons, links and warnings stay readable in both colour schemes: each text colour
//! reaches WCAG AA's 4.5:1 against the background it is drawn on, read from `static/app.css`
//! itself (its custom properties, light and then the dark overrides, and the rules that use them).

use std::collections::HashMap;

const CSS: &str = include_str!("../../static/app.css");

/// The declarations of the first `{ … }` after `opener` in `css`, as (property, value).
fn declarations<'a>(css: &'a str, opener: &str) -> Vec<(&'a str, &'a str)> {
    let start = css.find(opener).unwrap_or_else(|| panic!("no `{opener}` in app.css")) + opener.len();
    let body = &css[start..][..css[start..].find('}').expect("a closing brace")];
    body.split(';').filter_map(|d| d.split_once(':')).map(|(name, value)| (name.trim(), value.trim())).collect()
}

/// The custom properties of a scheme: the light ones, and in dark mode the ones it overrides.
fn scheme(dark: bool) -> HashMap<&'static str, &'static str> {
    let mut properties: HashMap<_, _> = declarations(CSS, ":root {").into_iter().collect();
    if dark {
        let media = &CSS[CSS.find("@media (prefers-color-scheme: dark)").expect("a dark scheme")..];
        properties.extend(declarations(media, ":root {"));
    }
    properties
}

/// A property of the rule for exactly `selector`.
fn rule_value(selector: &str, property: &str) -> &'static str {
    let rule = declarations(CSS, &format!("\n{selector} {{"));
    rule.into_iter().find(|(name, _)| *name == property).unwrap_or_else(|| panic!("no {property} in `{selector}`")).1
}

/// `#rrggbb`, or `var(--name)` looked up in `scheme`, as red, green and blue.
fn colour(value: &str, scheme: &HashMap<&str, &str>) -> [u8; 3] {
    let value = match value.strip_prefix("var(").and_then(|v| v.strip_suffix(')')) {
        Some(name) => scheme.get(name).unwrap_or_else(|| panic!("{name} is not defined")),
        None => value,
    };
    let hex = value.strip_prefix('#').filter(|hex| hex.len() == 6).unwrap_or_else(|| panic!("not #rrggbb: {value}"));
    [0, 2, 4].map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex digits"))
}

/// WCAG 2's relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let [r, g, b] = rgb.map(|channel| {
        let c = f64::from(channel) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    });
    0.2126 * r + 0.7152 * g + 0.0722 * b
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (light, dark) = (luminance(a).max(luminance(b)), luminance(a).min(luminance(b)));
    (light + 0.05) / (dark + 0.05)
}

#[test]
fn buttons_links_and_warnings_reach_4_5_to_1_in_light_and_dark() {
    // (what, its text colour, the background it is drawn on). Buttons without a background of
    // their own, and links, sit on the card (`main`) or the page around it.
    let pairs = [
        ("button", rule_value("button, a.button", "color"), rule_value("button, a.button", "background")),
        ("link on the card", rule_value("a", "color"), "var(--card)"),
        ("link on the page", rule_value("a", "color"), "var(--bg)"),
        ("secondary button", rule_value("button.secondary", "color"), "var(--card)"),
        ("link button", rule_value("button.link", "color"), "var(--card)"),
        ("disabled link button", rule_value("button.link:disabled", "color"), "var(--card)"),
        ("danger link button", rule_value("button.danger", "color"), "var(--card)"),
        (
            "danger button",
            rule_value("button.danger:not(.link)", "color"),
            rule_value("button.danger:not(.link)", "background"),
        ),
        ("warning", rule_value(".warning", "color"), "var(--card)"),
    ];
    let mut failures = Vec::new();
    for (name, dark) in [("light", false), ("dark", true)] {
        let scheme = scheme(dark);
        for (what, text, background) in pairs {
            let ratio = contrast(colour(text, &scheme), colour(background, &scheme));
            if ratio < 4.5 {
                failures.push(format!("{what} in {name}: {text} on {background} is {ratio:.2}:1"));
            }
        }
    }
    assert!(failures.is_empty(), "below WCAG AA:\n{}", failures.join("\n"));
}

#[test]
fn contrast_matches_known_ratios() {
    let (white, black) = ([255; 3], [0; 3]);
    assert!((contrast(white, black) - 21.0).abs() < 1e-9);
    // The dark scheme's old button: white on #7d9bff.
    assert!((contrast(white, [0x7d, 0x9b, 0xff]) - 2.62).abs() < 0.01);
}
