//! Reading JSON Lines input for `append --jsonl`: numbering lines, skipping
//! blank ones, tolerating a UTF-8 BOM and CRLF or CR line ends, refusing
//! invalid UTF-8 and over-long lines (without reading past the cap), and
//! parsing each line with
//! [`onrecord_core::parse_line`].
//!
//! Lines are handed over one at a time, so that an import holds one line,
//! not the file. No ledger access here: the caller appends what it is given.

use std::io::BufRead;

use onrecord_core::{InputEvent, parse_line};

/// The longest line accepted, in bytes (without its line end).
pub const MAX_LINE: usize = 1024 * 1024;

/// How many bad lines are listed before the rest are counted.
pub const MAX_REPORTED: usize = 20;

/// One parsed line and its 1-based line number.
#[derive(Debug, Clone)]
pub struct NumberedEvent {
    /// The line number in the input (from 1, counting blank lines).
    pub line: usize,
    /// What the line asks to record.
    pub event: InputEvent,
}

/// Bad lines' messages in input order: the first [`MAX_REPORTED`] kept, the rest counted.
#[derive(Debug, Default)]
pub struct Refusals {
    listed: Vec<String>,
    count: usize,
}

/// How one call to [`next_line`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    /// A line is in the buffer (its line end, if any, consumed).
    Line,
    /// The line would pass [`MAX_LINE`]; the buffer holds its first bytes only.
    TooLong,
    /// Nothing is left.
    Eof,
}

/// Reads one line into `buf` without its line end, never buffering past
/// [`MAX_LINE`] bytes: LF, CRLF and a lone CR each end a line.
///
/// `after_cr` carries a CR line end across calls, so the LF of a CRLF split
/// between two reads is not taken for an empty line.
fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    after_cr: &mut bool,
) -> std::io::Result<LineEnd> {
    buf.clear();
    let mut started = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if started { LineEnd::Line } else { LineEnd::Eof });
        }
        if std::mem::take(after_cr) && available[0] == b'\n' {
            reader.consume(1);
            continue;
        }
        started = true;
        let end = available.iter().position(|&b| b == b'\n' || b == b'\r');
        let content = end.unwrap_or(available.len());
        if buf.len() + content > MAX_LINE {
            return Ok(LineEnd::TooLong);
        }
        buf.extend_from_slice(&available[..content]);
        match end {
            Some(i) => {
                *after_cr = available[i] == b'\r';
                reader.consume(i + 1);
                return Ok(LineEnd::Line);
            }
            None => reader.consume(content),
        }
    }
}

impl Refusals {
    /// Notes one bad line's message.
    pub fn push(&mut self, message: String) {
        if self.listed.len() < MAX_REPORTED {
            self.listed.push(message);
        }
        self.count += 1;
    }

    /// How many bad lines were noted.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether no bad line was noted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the next message will be listed (so is worth a hint).
    pub fn lists_next(&self) -> bool {
        self.listed.len() < MAX_REPORTED
    }

    /// The listed messages, then `... and K more`.
    pub fn lines(self) -> Vec<String> {
        let mut out = self.listed;
        if self.count > out.len() {
            out.push(format!("... and {} more", self.count - out.len()));
        }
        out
    }
}

/// Reads and parses every line of `reader`, in order, handing each event to
/// `on_event` and each bad line's `line N: why` to `on_error`; I/O failures
/// are returned as `Err(reason)`.
pub fn read_events(
    reader: impl BufRead,
    mut on_event: impl FnMut(NumberedEvent),
    mut on_error: impl FnMut(String),
) -> Result<(), std::io::Error> {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut after_cr = false;
    let mut n = 0usize;
    loop {
        let end = next_line(&mut reader, &mut buf, &mut after_cr)?;
        if end == LineEnd::Eof {
            break;
        }
        n += 1;
        if end == LineEnd::TooLong {
            on_error(format!("line {n}: longer than 1 MiB"));
            break;
        }
        let mut bytes = &buf[..];
        if n == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            on_error(format!("line {n}: line is not valid UTF-8"));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(text) {
            Ok(event) => on_event(NumberedEvent { line: n, event }),
            Err(e) => on_error(format!("line {n}: {e}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTY: &str = r#"{"type":"party","id":"trump","name":"Donald Trump"}"#;

    /// Every event and every bad line's message of `input`.
    fn read_all(input: &[u8]) -> (Vec<NumberedEvent>, Vec<String>) {
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        read_events(input, |e| events.push(e), |m| errors.push(m)).unwrap();
        (events, errors)
    }

    #[test]
    fn bom_crlf_and_blank_lines_are_tolerated() {
        let input = format!("\u{feff}{PARTY}\r\n\r\n  \n{PARTY}");
        let (events, errors) = read_all(input.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        let lines: Vec<_> = events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 4]);
    }

    #[test]
    fn bad_lines_are_named() {
        let mut input = format!("{PARTY}\nnot json\n").into_bytes();
        input.extend_from_slice(b"\xff\xfe\n");
        input.extend_from_slice(PARTY.as_bytes());
        let (events, errors) = read_all(&input);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].line, 4);
        assert!(
            errors[0].starts_with("line 2: malformed JSON"),
            "{errors:?}"
        );
        assert_eq!(errors[1], "line 3: line is not valid UTF-8");
    }

    #[test]
    fn an_overlong_line_stops_reading_at_the_cap() {
        let mut input = format!("{PARTY}\n").into_bytes();
        input.extend(std::iter::repeat_n(b' ', MAX_LINE + 1));
        input.extend_from_slice(b"\nnot json\n");
        let (_, errors) = read_all(&input);
        assert_eq!(errors, ["line 2: longer than 1 MiB"]);
        // A line of exactly the cap is read.
        let exact = " ".repeat(MAX_LINE);
        assert!(read_all(exact.as_bytes()).1.is_empty());
    }

    #[test]
    fn cr_only_and_split_crlf_line_ends_end_one_line_each() {
        let input = format!("{PARTY}\r{PARTY}\r\n\r\n{PARTY}\r");
        let (events, errors) = read_all(input.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        let lines: Vec<_> = events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 4]);
        // A CRLF split across two reads is still one line end.
        let split = std::io::BufReader::with_capacity(PARTY.len() + 1, input.as_bytes());
        let mut lines = Vec::new();
        read_events(split, |e| lines.push(e.line), |_| {}).unwrap();
        assert_eq!(lines, [1, 2, 4]);
    }

    #[test]
    fn long_error_lists_are_abridged() {
        let mut refusals = Refusals::default();
        for n in 1..=25 {
            refusals.push(format!("line {n}: bad"));
        }
        assert_eq!(refusals.count(), 25);
        let out = refusals.lines();
        assert_eq!(out.len(), 21);
        assert_eq!(out[19], "line 20: bad");
        assert_eq!(out[20], "... and 5 more");
    }
}
