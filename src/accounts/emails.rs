//! The app's own emails: notices that carry no code. Each is built from one description, so
//! its HTML and text parts cannot drift apart. Everything interpolated is escaped by maud.

use maud::html;

use crate::domain::EmailAddress;
use crate::mail::{OutgoingEmail, template};

struct Notice<'a> {
    subject: &'a str,
    paragraphs: Vec<String>,
    link: Option<(&'a str, String)>,
}

impl Notice<'_> {
    fn to(self, recipient: &EmailAddress) -> OutgoingEmail {
        let preheader = self.paragraphs.first().map_or(self.subject, String::as_str);
        let html = template::document(
            self.subject,
            preheader,
            html! {
                (template::heading(self.subject))
                @for p in &self.paragraphs { (template::paragraph(p)) }
                @if let Some((label, url)) = &self.link { (template::button(label, url)) }
            },
        );
        let mut text = self.paragraphs.join("\n\n");
        if let Some((label, url)) = &self.link {
            text.push_str(&format!("\n\n{label}: {url}"));
        }
        OutgoingEmail { to: recipient.clone(), subject: self.subject.to_owned(), html: html.into_string(), text }
    }
}

/// To the owner of an address someone tried to sign up with.
pub fn signup_attempt_on_existing_account(to: &EmailAddress, base_url: &str) -> OutgoingEmail {
    Notice {
        subject: "Someone tried to sign up with your email",
        paragraphs: vec![
            "Someone asked to create an account with this email address, but you already have one.".into(),
            "If it was you, sign in instead. If it wasn't, you can ignore this email: nothing has changed.".into(),
        ],
        link: Some(("Sign in", format!("{base_url}/login"))),
    }
    .to(to)
}

/// To the owner of an address someone tried to move another account to.
pub fn email_change_to_existing_account(to: &EmailAddress, base_url: &str) -> OutgoingEmail {
    Notice {
        subject: "Someone tried to use your email for another account",
        paragraphs: vec![
            "Someone asked to move another account to this email address, but it already belongs to your account, so nothing was changed.".into(),
            "If it was you, sign in to this account instead. If it wasn't, you can ignore this email.".into(),
        ],
        link: Some(("Sign in", format!("{base_url}/login"))),
    }
    .to(to)
}

/// To an address with no account that someone tried to sign in or recover with.
pub fn no_account(to: &EmailAddress, base_url: &str) -> OutgoingEmail {
    Notice {
        subject: "There is no account for this email",
        paragraphs: vec![
            "Someone asked for a code to sign in to (or recover) an account with this email address, but there is no account for it.".into(),
            "If it was you, you may have used another address, or you can create an account. If it wasn't, you can ignore this email.".into(),
        ],
        link: Some(("Create an account", format!("{base_url}/signup"))),
    }
    .to(to)
}

/// To the old address after the account moved to a new one.
pub fn email_changed(old: &EmailAddress, new: &EmailAddress, base_url: &str) -> OutgoingEmail {
    Notice {
        subject: "Your email address was changed",
        paragraphs: vec![
            format!("The email address of your account was changed to {new}. This address will no longer receive sign-in codes."),
            "If this wasn't you, someone may have access to your account: contact us right away and keep this email.".into(),
        ],
        link: Some(("Review your account", format!("{base_url}/account"))),
    }
    .to(old)
}

/// To the account's address after a passkey was added through email recovery, so that the
/// owner learns of it if it was not them.
pub fn passkey_added_through_recovery(to: &EmailAddress, when: &str, base_url: &str) -> OutgoingEmail {
    Notice {
        subject: "A passkey was added to your account",
        paragraphs: vec![
            format!("A new passkey was added to your account on {when}, after a code sent to this address was used to recover the account."),
            "If this was you, there is nothing to do. If it wasn't, someone can read your email: secure your mailbox, then recover your account again and remove the passkeys you don't recognise.".into(),
        ],
        link: Some(("Review your passkeys", format!("{base_url}/account"))),
    }
    .to(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_escape_what_they_show_and_keep_both_parts() {
        let old = EmailAddress::parse("old@example.com").unwrap();
        let new =
            EmailAddress::parse("new<b>@example.com").unwrap_or_else(|_| EmailAddress::parse("n@example.com").unwrap());
        let email = email_changed(&old, &new, "http://localhost:8080");
        assert_eq!(email.to, old);
        assert!(email.text.contains(new.as_str()) && email.html.contains(new.as_str()));
        assert!(email.text.contains("http://localhost:8080/account"));
        let no = no_account(&old, "http://x\"><script>");
        assert!(!no.html.contains("<script>"));
    }
}
