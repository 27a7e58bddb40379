//! The fields of a text log line, written as tracing-subscriber's default writes them but with
//! every control character in a value escaped (a line break as `\n`, ESC as `\u{1b}`).
//!
//! A value can hold text a client chose: an error that quotes the request, an id from a path.
//! Written raw, a line break in it would start a line of the client's own, and an escape
//! sequence would reach the terminal of whoever reads the log. The default formatter writes a
//! `%display` value and the message raw (it escapes only some escape sequences, and only in the
//! message), so this escapes them all, in every field of every event and span, whatever recorded
//! it. JSON lines need none of this: serde_json escapes control characters itself.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// The text log's field formatter: see the module's documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneLineFields;

impl<'writer> FormatFields<'writer> for OneLineFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Visitor { writer, first: true, result: Ok(()) };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Visitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    /// `name=value`, or the bare value of the message, after a space unless it is the first.
    fn write(&mut self, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        let name = field.name();
        if name != "message" {
            self.write_name(name.strip_prefix("r#").unwrap_or(name), "")?;
        }
        write!(ControlEscaped(&mut self.writer), "{value:?}")
    }

    /// `name` and `suffix` in italics and a dimmed `=` (the default formatter's colours), or
    /// plain when the log has no colour.
    fn write_name(&mut self, name: &str, suffix: &str) -> fmt::Result {
        if self.writer.has_ansi_escapes() {
            write!(self.writer, "\x1b[3m{name}\x1b[0m")?;
            if !suffix.is_empty() {
                write!(self.writer, "\x1b[3m{suffix}\x1b[0m")?;
            }
            self.writer.write_str("\x1b[2m=\x1b[0m")
        } else {
            write!(self.writer, "{name}{suffix}=")
        }
    }

    /// After an error, the chain of its sources, as the default formatter writes it:
    /// ` error.sources=[first, second]`.
    fn write_sources(&mut self, field: &Field, error: &(dyn std::error::Error + 'static)) -> fmt::Result {
        let mut sources = std::iter::successors(error.source(), |source| source.source()).peekable();
        if sources.peek().is_none() {
            return Ok(());
        }
        self.writer.write_char(' ')?;
        self.write_name(field.name(), ".sources")?;
        self.writer.write_char('[')?;
        for (i, source) in sources.enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(ControlEscaped(&mut self.writer), "{separator}{source}")?;
        }
        self.writer.write_char(']')
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // The message is written bare, any other text quoted, as the default formatter does.
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_ok() {
            self.result = self.write(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_ok() {
            self.result = self.write(field, &format_args!("{value}")).and_then(|()| self.write_sources(field, value));
        }
    }
}

/// Passes text through with its control characters escaped.
struct ControlEscaped<W>(W);

impl<W: Write> Write for ControlEscaped<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if !text.contains(char::is_control) {
            return self.0.write_str(text);
        }
        for c in text.chars() {
            if c.is_control() {
                write!(self.0, "{}", c.escape_default())?;
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::format::DefaultFields;

    use super::*;

    /// What a subscriber writes, kept in memory.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Output {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Output {
        type Writer = Output;
        fn make_writer(&'a self) -> Output {
            self.clone()
        }
    }

    /// The text lines `log` writes through `fields`, without timestamps, in colour or not.
    fn lines<N>(fields: N, ansi: bool, log: impl FnOnce()) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let output = Output::default();
        let subscriber = tracing_subscriber::fmt()
            .without_time()
            .with_ansi(ansi)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(output.clone())
            .fmt_fields(fields)
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(output.0.lock().unwrap().clone()).unwrap()
    }

    /// An error with a source, as `?` makes them.
    #[derive(Debug)]
    struct Outer(fmt::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not render the page")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn every_kind_of_field() {
        let span = tracing::info_span!("HTTP request", request_id = %"5f0c", r#type = "span");
        span.in_scope(|| {
            tracing::info!(
                text = "quoted",
                shown = %"bare",
                number = 42_u16,
                flag = true,
                ms = 1.5_f64,
                missing = Option::<&str>::None,
                debugged = ?Some("x"),
                "answered {} of {}",
                1,
                2
            );
            tracing::warn!("only a message");
            let outer = Outer(fmt::Error);
            tracing::error!(
                error = &outer as &(dyn std::error::Error + 'static),
                alone = &fmt::Error as &dyn std::error::Error
            );
        });
    }

    #[test]
    fn ordinary_fields_are_written_as_the_default_formatter_writes_them() {
        for ansi in [false, true] {
            let ours = lines(OneLineFields, ansi, every_kind_of_field);
            assert_eq!(ours, lines(DefaultFields::new(), ansi, every_kind_of_field), "ansi: {ansi}");
        }
        let plain = lines(OneLineFields, false, every_kind_of_field);
        assert!(plain.contains(r#"answered 1 of 2 text="quoted" shown=bare number=42 flag=true"#), "{plain}");
        assert!(plain.contains("error=could not render the page error.sources=[an error occurred"), "{plain}");
    }

    #[test]
    fn control_characters_in_any_value_or_the_message_are_escaped() {
        let log = lines(OneLineFields, true, || {
            let span = tracing::info_span!("request", id = %"a\nforged=1");
            span.in_scope(|| {
                tracing::error!(
                    message = %"bad\r\nINFO forged line",
                    details = %"\u{1b}[31mred\u{7f}\u{9b}",
                    quoted = "tab\there"
                );
                tracing::info!("text {}", "with\na break");
            });
        });
        assert_eq!(log.lines().count(), 2, "{log}");
        assert!(log.contains(r"a\nforged=1"), "{log}");
        assert!(log.contains(r"bad\r\nINFO forged line"), "{log}");
        assert!(log.contains(r"\u{1b}[31mred\u{7f}\u{9b}"), "{log}");
        assert!(log.contains(r#""tab\there""#), "{log}");
        assert!(log.contains(r"text with\na break"), "{log}");
    }
}
