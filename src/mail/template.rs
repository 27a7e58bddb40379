//! The shell every email shares: a responsive table layout with inline styles (what mail
//! clients render), a dark-mode stylesheet for those that honour `prefers-color-scheme`, and the
//! pieces emails are built from. Everything interpolated is escaped by maud.

use maud::{DOCTYPE, Markup, html};

use super::Brand;

const DARK_MODE_CSS: &str = "
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .mb-page { background-color: #18181b !important; }
  .mb-card { background-color: #27272a !important; }
  .mb-text { color: #f4f4f5 !important; }
  .mb-muted { color: #a1a1aa !important; }
  .mb-code { background-color: #3f3f46 !important; color: #fafafa !important; }
}
";

const FONT: &str = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

/// A whole email: `preheader` is the inbox preview line, `content` goes in the card, and the
/// `brand`, if any, signs it under the card.
pub fn document(title: &str, preheader: &str, content: Markup, brand: Option<&Brand>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="supported-color-schemes" content="light dark";
                title { (title) }
                style { (DARK_MODE_CSS) }
            }
            body.mb-page style="margin:0;padding:0;width:100%;background-color:#f4f4f5;" {
                div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;font-size:1px;line-height:1px;" {
                    (preheader)
                }
                table.mb-page role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
                    style="width:100%;background-color:#f4f4f5;" {
                    tr {
                        td align="center" style="padding:24px 12px;" {
                            table.mb-card role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
                                style="width:100%;max-width:520px;margin:0 auto;background-color:#ffffff;border-radius:8px;" {
                                tr { td style="padding:32px 28px;" { (content) } }
                            }
                            @if let Some(brand) = brand { (footer(brand)) }
                        }
                    }
                }
            }
        }
    }
}

/// `Mailbox challenges demo · localhost:8080`, the site linked: who sent this, and where.
fn footer(brand: &Brand) -> Markup {
    let style = format!("{FONT}margin:16px 0 0;font-size:13px;line-height:20px;text-align:center;color:#52525b;");
    html! {
        p.mb-muted style=(style) {
            (brand.product()) " · "
            a.mb-muted href=(brand.base_url()) style="color:#52525b;text-decoration:underline;" { (brand.site()) }
        }
    }
}

pub fn heading(text: &str) -> Markup {
    html! {
        h1.mb-text style=(format!("{FONT}margin:0 0 24px;font-size:22px;line-height:30px;font-weight:600;color:#18181b;")) {
            (text)
        }
    }
}

pub fn paragraph(text: &str) -> Markup {
    html! { p.mb-text style=(format!("{FONT}margin:0 0 16px;font-size:16px;line-height:24px;color:#18181b;")) { (text) } }
}

/// Small print, such as what to do if the email was not expected.
pub fn small_print(text: &str) -> Markup {
    html! { p.mb-muted style=(format!("{FONT}margin:0;font-size:13px;line-height:20px;color:#71717a;")) { (text) } }
}

pub fn button(label: &str, url: &str) -> Markup {
    html! {
        p style="margin:8px 0 0;" {
            a href=(url) style=(format!("{FONT}display:inline-block;padding:10px 18px;border-radius:6px;background-color:#2f5bea;color:#ffffff;font-size:16px;font-weight:600;text-decoration:none;")) {
                (label)
            }
        }
    }
}
