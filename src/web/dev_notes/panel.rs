//! How the notes look: the panel every page carries in development, and the list that fills it.

use maud::{Markup, html};

use super::NOTES_PATH;
use crate::client::dev_notes::{Check, Exchange, MASK, Recorded, SessionNotes, ShownJson};
use crate::web::layout::moment;

/// The panel: the same frame on every page and for every visitor. The page script fills it
/// with the list from the notes page, and opens or closes it as this browser last left it.
pub fn panel() -> Markup {
    html! {
        aside.dev-notes aria-labelledby="dev-notes-title" data-dev-notes=(NOTES_PATH) {
            div.dev-notes-head {
                h2 #dev-notes-title { "What just happened" }
                button.secondary type="button" data-dev-notes-toggle aria-controls="dev-notes-body" aria-expanded="true" hidden { "Hide" }
            }
            div #dev-notes-body {
                p.meta {
                    "Development only: what the app did for this browser session, step by step. "
                    a href=(NOTES_PATH) { "See the notes" }
                }
            }
        }
    }
}

/// The notes page; its list is what the page script puts in the panel.
pub fn notes_page(notes: &SessionNotes) -> Markup {
    html! {
        h1 { "What just happened" }
        p {
            "What the app did for this browser session: each call to the challenge service with its request and answer "
            "(" code { "secret" } " and " code { "code" } " shown as " code { (MASK) } "), the checks it made, and each passkey step. "
            "Development only; the notes go when the session does."
        }
        h2 { "Newest first" }
        div data-dev-notes-list {
            @if notes.is_empty() {
                p { "Nothing yet in this browser session. Start a flow, and each step shows here." }
            } @else {
                ol.dev-notes-list {
                    @for recorded in notes.newest_first() { li.dev-note { (note(recorded)) } }
                }
            }
        }
    }
}

fn note(recorded: &Recorded) -> Markup {
    let Recorded { at, note } = recorded;
    html! {
        h3 { (note.title) }
        p.meta { (moment(*at)) }
        p { (words(&note.explanation)) }
        @if let Some(exchange) = &note.exchange { (exchange_view(exchange)) }
        @if !note.checks.is_empty() { (checks_table(&note.checks)) }
    }
}

fn exchange_view(exchange: &Exchange) -> Markup {
    html! {
        p.exchange {
            code { (exchange.method) " " (exchange.path) }
            @if let Some(status) = exchange.status { " → " strong { (status) } }
        }
        @if let Some(body) = &exchange.request { (json_block("Request", body)) }
        @if let Some(body) = &exchange.response { (json_block("Response", body)) }
    }
}

fn json_block(label: &str, body: &ShownJson) -> Markup {
    html! {
        h4 { (label) }
        // Focusable, so that a keyboard can scroll a long body.
        pre tabindex="0" { code { (body.pretty()) } }
    }
}

fn checks_table(checks: &[Check]) -> Markup {
    html! {
        table.checks {
            caption { "What the app checked" }
            thead { tr { th scope="col" { "Check" } th scope="col" { "Expected" } th scope="col" { "Actual" } th scope="col" { "Result" } } }
            tbody {
                @for check in checks {
                    tr {
                        th scope="row" { code { (check.name) } }
                        td { (check.expected) }
                        td { (check.actual) }
                        @if check.ok { td.passed { "✓ passed" } } @else { td.failed { "✗ failed" } }
                    }
                }
            }
        }
    }
}

/// Plain words, with each `backticked` name set as code.
fn words(text: &str) -> Markup {
    html! {
        @for (at, part) in text.split('`').enumerate() {
            @if at % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticked_names_are_set_as_code_and_escaped() {
        assert_eq!(words("keeps `secret` <here>").into_string(), "keeps <code>secret</code> &lt;here&gt;");
    }
}
