//! The email that carries a challenge's one-time code: subject, HTML and plain-text bodies.
//!
//! Wording depends on the challenge's purpose; everything else (greeting, code, expiry and the
//! "didn't ask for this" line) is worked out once and shared by both bodies so they never drift.

use std::time::Duration;

use maud::{Markup, html};

use super::model::{Code, Message, Purpose, RecipientName};
use crate::domain::expires_in_words;
use crate::mail::{Brand, template};

/// The message the service returns for a new challenge, and sends with `sendEmail`. It names no
/// product: a tenancy has none, and the hosted service's message has none either.
pub fn render(purpose: &Purpose, name: Option<&RecipientName>, code: &Code, ttl: Duration) -> Message {
    compose(purpose, name, code, ttl, None)
}

/// The same message as an app sends it itself: the subject names the product, and the product
/// and site sign it, so the reader knows who sent the code and where it belongs.
pub fn render_for(
    brand: &Brand,
    purpose: &Purpose,
    name: Option<&RecipientName>,
    code: &Code,
    ttl: Duration,
) -> Message {
    compose(purpose, name, code, ttl, Some(brand))
}

fn compose(
    purpose: &Purpose,
    name: Option<&RecipientName>,
    code: &Code,
    ttl: Duration,
    brand: Option<&Brand>,
) -> Message {
    let wording = wording(purpose);
    let subject = match brand {
        Some(brand) => format!("{} for {}", wording.subject, brand.product()),
        None => wording.subject.to_owned(),
    };
    let content =
        Content { wording, greeting: greeting(name), code: code.expose(), expires_in: expires_in_words(ttl.as_secs()) };
    let text = match brand {
        Some(brand) => brand.signed(&text_body(&content)),
        None => text_body(&content),
    };
    Message { html: html_body(&subject, &content, brand).into_string(), text, subject }
}

/// The purpose-specific phrases of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wording {
    /// Never contains the code: subjects show on lock screens and in notifications.
    subject: &'static str,
    heading: &'static str,
    intro: &'static str,
    /// Extra advice for purposes where an unexpected code hints at someone targeting the account.
    security_note: Option<&'static str>,
}

fn wording(purpose: &Purpose) -> Wording {
    match purpose.as_str() {
        "signup" => Wording {
            subject: "Confirm your email address",
            heading: "Confirm your email address",
            intro: "Enter this code to confirm your email address and finish signing up.",
            security_note: None,
        },
        "login" => Wording {
            subject: "Your sign-in code",
            heading: "Your sign-in code",
            intro: "Enter this code to sign in.",
            security_note: None,
        },
        "email-change" => Wording {
            subject: "Confirm your new email address",
            heading: "Confirm your new email address",
            intro: "Enter this code to confirm this as the new email address for your account.",
            security_note: Some(
                "If you didn't try to change your email address, check your account's security, \
                 for example by securing the mailbox this code was sent to.",
            ),
        },
        "account-recovery" => Wording {
            subject: "Recover your account",
            heading: "Recover your account",
            intro: "Enter this code to recover access to your account.",
            security_note: Some(
                "If you didn't try to recover your account, check your account's security, \
                 for example by securing the mailbox this code was sent to.",
            ),
        },
        // Purposes are chosen freely by applications, so anything unknown gets neutral wording
        // rather than echoing the raw purpose string at the reader.
        _ => Wording {
            subject: "Your verification code",
            heading: "Your verification code",
            intro: "Enter this code to verify your email address.",
            security_note: None,
        },
    }
}

/// Everything both bodies show, computed once.
struct Content<'a> {
    wording: Wording,
    greeting: String,
    code: &'a str,
    /// "10 minutes", "45 seconds": rounded down, never more time than the code has.
    expires_in: String,
}

impl Content<'_> {
    fn expiry_line(&self) -> String {
        format!("This code expires in {}.", self.expires_in)
    }

    fn ignore_line(&self) -> String {
        let base = "If you didn't ask for this code, you can ignore this email; nobody can use it \
                    without also having access to the page where it was requested.";
        match self.wording.security_note {
            Some(note) => format!("{base} {note}"),
            None => base.to_owned(),
        }
    }
}

fn greeting(name: Option<&RecipientName>) -> String {
    match name {
        Some(name) => format!("Hi {},", name.as_str()),
        None => "Hi,".to_owned(),
    }
}

/// Email clients drop `<style>` support unevenly, so light colours live in inline styles and this
/// sheet only overrides them (hence `!important`) where dark mode is understood.
fn html_body(subject: &str, content: &Content<'_>, brand: Option<&Brand>) -> Markup {
    let wording = &content.wording;
    // The preview line stays free of the code, like the subject: both show on lock screens.
    let preheader = format!("Your code expires in {}.", content.expires_in);
    template::document(
        subject,
        &preheader,
        html! {
            (template::heading(wording.heading))
            (template::paragraph(&content.greeting))
            (template::paragraph(wording.intro))
            // Letter-spacing also pads after the last digit, so the left padding is wider to
            // keep the code visually centred.
            p.mb-code style="margin:0 0 16px;padding:16px 12px 16px 20px;text-align:center;font-family:'SFMono-Regular',Menlo,Consolas,'Courier New',monospace;font-size:32px;line-height:40px;font-weight:700;letter-spacing:8px;color:#18181b;background-color:#f4f4f5;border-radius:6px;" {
                (content.code)
            }
            (template::paragraph(&content.expiry_line()))
            (template::small_print(&content.ignore_line()))
        },
        brand,
    )
}

fn text_body(content: &Content<'_>) -> String {
    let wording = &content.wording;
    [
        content.greeting.clone(),
        wording.intro.to_owned(),
        content.code.to_owned(),
        content.expiry_line(),
        content.ignore_line(),
    ]
    .join("\n\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "012345";

    fn render_unbranded(purpose: &str, name: &str, ttl_secs: u64) -> Message {
        let purpose = Purpose::parse(purpose).unwrap();
        let name = RecipientName::parse(name).unwrap();
        let code = Code::new(CODE.into());
        render(&purpose, name.as_ref(), &code, Duration::from_secs(ttl_secs))
    }

    #[test]
    fn each_known_purpose_has_its_own_subject_and_others_fall_back() {
        let cases = [
            ("signup", "Confirm your email address"),
            ("login", "Your sign-in code"),
            ("email-change", "Confirm your new email address"),
            ("account-recovery", "Recover your account"),
            ("newsletter-optin", "Your verification code"),
        ];
        for (purpose, subject) in cases {
            let message = render_unbranded(purpose, "", 600);
            assert_eq!(message.subject, subject, "purpose {purpose}");
            assert!(message.html.contains(subject), "purpose {purpose}");
        }
        assert!(render_unbranded("signup", "", 600).text.contains("finish signing up"));
        assert!(render_unbranded("account-recovery", "", 600).text.contains("recover access"));
    }

    #[test]
    fn code_is_in_both_bodies_but_never_the_subject_or_preview() {
        for purpose in ["signup", "login", "email-change", "account-recovery", "other"] {
            let message = render_unbranded(purpose, "Jane", 600);
            assert!(!message.subject.contains(CODE), "purpose {purpose}");
            assert!(message.html.contains(CODE), "purpose {purpose}");
            assert!(message.text.lines().any(|line| line == CODE), "code must be on its own line: {}", message.text);
        }
        let html = render_unbranded("login", "", 600).html;
        assert!(html.contains("Your code expires in 10 minutes."));
        let preview_end = html.find("Your code expires in").unwrap();
        assert!(!html[..preview_end].contains(CODE));
    }

    #[test]
    fn greets_by_name_when_given() {
        let named = render_unbranded("login", "Jane", 600);
        assert!(named.html.contains("Hi Jane,"));
        assert!(named.text.starts_with("Hi Jane,\n"));
        let anonymous = render_unbranded("login", "  ", 600);
        assert!(anonymous.html.contains("Hi,"));
        assert!(anonymous.text.starts_with("Hi,\n"));
    }

    #[test]
    fn name_is_escaped_in_html() {
        let message = render_unbranded("signup", "<script>alert(1)</script>", 600);
        assert!(message.html.contains("Hi &lt;script&gt;alert(1)&lt;/script&gt;,"));
        assert!(!message.html.contains("<script"));
    }

    #[test]
    fn expiry_never_promises_more_time_than_the_code_has() {
        let cases = [(600, "10 minutes"), (60, "1 minute"), (90, "1 minute"), (599, "9 minutes"), (30, "30 seconds")];
        for (secs, phrase) in cases {
            let message = render_unbranded("login", "", secs);
            let line = format!("This code expires in {phrase}.");
            assert!(message.text.contains(&line), "{secs}s: {}", message.text);
            assert!(message.html.contains(&line), "{secs}s");
        }
        let almost_two_minutes = Duration::from_millis(119_999);
        let message = render(&Purpose::parse("login").unwrap(), None, &Code::new(CODE.into()), almost_two_minutes);
        assert!(message.text.contains("This code expires in 1 minute."), "{}", message.text);
    }

    #[test]
    fn an_apps_own_message_names_its_product_and_site() {
        let brand = Brand::new("Acme Mail", &reqwest::Url::parse("http://localhost:8080").unwrap());
        let purpose = Purpose::parse("login").unwrap();
        let message = render_for(&brand, &purpose, None, &Code::new(CODE.into()), Duration::from_secs(600));
        assert_eq!(message.subject, "Your sign-in code for Acme Mail");
        assert!(message.html.contains("<title>Your sign-in code for Acme Mail</title>"));
        assert!(
            message.html.contains(r#"Acme Mail · <a class="mb-muted" href="http://localhost:8080""#),
            "{}",
            message.html
        );
        assert!(message.text.ends_with("\n\n-- \nAcme Mail · localhost:8080\n"), "{}", message.text);
        assert!(message.text.lines().any(|line| line == CODE));
    }

    #[test]
    fn the_services_message_names_no_product() {
        let message = render_unbranded("login", "", 600);
        assert_eq!(message.subject, "Your sign-in code");
        assert!(!message.text.contains("-- ") && !message.html.contains("localhost"));
    }

    #[test]
    fn ignore_line_adds_security_advice_for_sensitive_purposes() {
        for purpose in ["login", "signup", "other"] {
            let text = render_unbranded(purpose, "", 600).text;
            assert!(text.contains("If you didn't ask for this code"));
            assert!(!text.contains("account's security"), "purpose {purpose}");
        }
        for purpose in ["email-change", "account-recovery"] {
            let message = render_unbranded(purpose, "", 600);
            assert!(message.text.contains("If you didn't ask for this code"));
            assert!(message.text.contains("account's security"), "purpose {purpose}");
            assert!(message.html.contains("account's security"), "purpose {purpose}");
        }
    }

    #[test]
    fn html_is_a_responsive_document_with_dark_mode() {
        let html = render_unbranded("login", "", 600).html;
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"name="viewport""#));
        assert!(html.contains(r#"<meta name="color-scheme" content="light dark">"#));
        assert!(html.contains(r#"<meta name="supported-color-schemes" content="light dark">"#));
        assert!(html.contains("@media (prefers-color-scheme: dark)"));
        assert!(html.contains(r#"role="presentation""#));
        assert!(html.contains("max-width:520px"));
        assert!(html.contains("monospace"));
        assert!(html.contains("letter-spacing:8px"));
    }
}
