//! The app's own emails: notices that carry no code. Each is built from one description, so
//! its HTML and text parts cannot drift apart, and each is signed with the product and site.
//! Everything interpolated is escaped by maud.

use maud::html;

use crate::domain::EmailAddress;
use crate::mail::{Brand, OutgoingEmail, template};

struct Notice<'a> {
    subject: &'a str,
    paragraphs: Vec<String>,
    link: Option<(&'a str, String)>,
}

impl Notice<'_> {
    fn to(self, recipient: &EmailAddress, brand: &Brand) -> OutgoingEmail {
        let preheader = self.paragraphs.first().map_or(self.subject, String::as_str);
        let html = template::document(
            self.subject,
            preheader,
            html! {
                (template::heading(self.subject))
                @for p in &self.paragraphs { (template::paragraph(p)) }
                @if let Some((label, url)) = &self.link { (template::button(label, url)) }
            },
            Some(brand),
        );
        let mut text = self.paragraphs.join("\n\n");
        if let Some((label, url)) = &self.link {
            text.push_str(&format!("\n\n{label}: {url}"));
        }
        let text = brand.signed(&text);
        OutgoingEmail { to: recipient.clone(), subject: self.subject.to_owned(), html: html.into_string(), text }
    }
}

/// To the owner of an address someone tried to sign up with.
pub fn signup_attempt_on_existing_account(to: &EmailAddress, brand: &Brand) -> OutgoingEmail {
    Notice {
        subject: "Someone tried to sign up with your email",
        paragraphs: vec![
            "Someone asked to create an account with this email address, but you already have one.".into(),
            "If it was you, sign in instead. If it wasn't, you can ignore this email: nothing has changed.".into(),
        ],
        link: Some(("Sign in", brand.link("/login"))),
    }
    .to(to, brand)
}

/// To the owner of an address someone tried to move another account to.
pub fn email_change_to_existing_account(to: &EmailAddress, brand: &Brand) -> OutgoingEmail {
    Notice {
        subject: "Someone tried to use your email for another account",
        paragraphs: vec![
            "Someone asked to move another account to this email address, but it already belongs to your account, so nothing was changed.".into(),
            "If it was you, sign in to this account instead. If it wasn't, you can ignore this email.".into(),
        ],
        link: Some(("Sign in", brand.link("/login"))),
    }
    .to(to, brand)
}

/// To an address with no account that someone tried to sign in or recover with.
pub fn no_account(to: &EmailAddress, brand: &Brand) -> OutgoingEmail {
    Notice {
        subject: "There is no account for this email",
        paragraphs: vec![
            "Someone asked for a code to sign in to (or recover) an account with this email address, but there is no account for it.".into(),
            "If it was you, you may have used another address, or you can create an account. If it wasn't, you can ignore this email.".into(),
        ],
        link: Some(("Create an account", brand.link("/signup"))),
    }
    .to(to, brand)
}

/// To the old address after the account moved to a new one.
pub fn email_changed(old: &EmailAddress, new: &EmailAddress, brand: &Brand) -> OutgoingEmail {
    let product = brand.product();
    Notice {
        subject: "Your email address was changed",
        paragraphs: vec![
            format!("The email address of your {product} account was changed to {new}. This address will no longer receive sign-in codes for it."),
            "If this was you, there is nothing to do. If it wasn't, someone else may have access to your account: sign in with your passkey right away, change the email address back to this one and remove any passkey you don't recognise.".into(),
            format!("If you can't sign in any more, keep this email and contact the people who run {product}: codes for the account now go to the new address."),
        ],
        // Not the recovery page: recovery codes would go to the new address.
        link: Some(("Sign in and secure your account", brand.link("/login"))),
    }
    .to(old, brand)
}

/// To the account's address after a passkey was added through email recovery, so that the
/// owner learns of it if it was not them.
pub fn passkey_added_through_recovery(to: &EmailAddress, when: &str, brand: &Brand) -> OutgoingEmail {
    Notice {
        subject: "A passkey was added to your account",
        paragraphs: vec![
            format!("A new passkey was added to your account on {when}, after a code sent to this address was used to recover the account."),
            "If this was you, there is nothing to do. If it wasn't, someone can read your email: secure your mailbox, then recover your account again and remove the passkeys you don't recognise.".into(),
        ],
        link: Some(("Review your passkeys", brand.link("/account"))),
    }
    .to(to, brand)
}

/// To the address of an account that was just deleted, so that its owner learns of it if it
/// was not them.
pub fn account_deleted(to: &EmailAddress, brand: &Brand) -> OutgoingEmail {
    let product = brand.product();
    Notice {
        subject: "Your account was deleted",
        paragraphs: vec![
            format!("Your {product} account for this email address was deleted, with its passkeys, and every device signed in to it was signed out."),
            "If this was you, there is nothing to do. If it wasn't, someone had access to your account: you can create a new one with this address, and secure your mailbox.".into(),
        ],
        link: Some(("Create an account", brand.link("/signup"))),
    }
    .to(to, brand)
}

#[cfg(test)]
mod tests {
    use reqwest::Url;

    use super::*;

    fn brand(product: &str) -> Brand {
        Brand::new(product, &Url::parse("http://localhost:8080").unwrap())
    }

    fn address(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[test]
    fn notices_escape_what_they_show_and_keep_both_parts() {
        let (old, new) = (address("old@example.com"), address("new@example.com"));
        let email = email_changed(&old, &new, &brand("Acme"));
        assert_eq!(email.to, old);
        assert!(email.text.contains(new.as_str()) && email.html.contains(new.as_str()));
        let no = no_account(&old, &brand("<script>alert(1)</script>"));
        assert!(!no.html.contains("<script>") && no.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn every_notice_is_signed_with_the_product_and_site() {
        let (to, brand) = (address("jo@example.com"), brand("Acme"));
        let notices = [
            signup_attempt_on_existing_account(&to, &brand),
            email_change_to_existing_account(&to, &brand),
            no_account(&to, &brand),
            email_changed(&to, &address("new@example.com"), &brand),
            passkey_added_through_recovery(&to, "1 May 2025 at 10:00 UTC", &brand),
            account_deleted(&to, &brand),
        ];
        for notice in notices {
            assert!(notice.text.ends_with("\n-- \nAcme · localhost:8080\n"), "{}", notice.text);
            assert!(
                notice.html.contains(r#"Acme · <a class="mb-muted" href="http://localhost:8080""#),
                "{}",
                notice.subject
            );
        }
    }

    #[test]
    fn the_old_address_learns_what_to_do_if_the_change_was_not_theirs() {
        let email = email_changed(&address("old@example.com"), &address("new@example.com"), &brand("Acme"));
        for part in [&email.text, &email.html] {
            assert!(part.contains("your Acme account was changed to new@example.com"), "{part}");
            assert!(part.contains("If it wasn't, someone else may have access to your account"), "{part}");
            assert!(part.contains("change the email address back"), "{part}");
            assert!(part.contains("http://localhost:8080/login"), "{part}");
        }
        assert!(email.text.contains("Sign in and secure your account: http://localhost:8080/login"), "{}", email.text);
    }
}
