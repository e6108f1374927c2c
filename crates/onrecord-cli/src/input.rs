//! Reading JSON Lines input for `append --jsonl`: numbering lines, skipping
//! blank ones, tolerating a UTF-8 BOM and CRLF or CR line ends, refusing
//! invalid UTF-8 and over-long lines (without reading past the cap), and
//! parsing each line with
//! [`onrecord_core::parse_line`].
//!
//! No ledger access here: the caller appends what this returns.

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

/// What reading the input gave: the events, or every bad line's message.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// The parsed events, in input order.
    pub events: Vec<NumberedEvent>,
    /// `line N: why` for each bad line, in input order.
    pub errors: Vec<String>,
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

/// Reads and parses every line of `reader`; I/O failures are returned as `Err(reason)`.
///
/// A line longer than [`MAX_LINE`] is refused as soon as the cap is passed and
/// reading stops there, so an endless line (`/dev/zero`) costs at most the cap.
pub fn read_events(reader: impl BufRead) -> Result<ReadOutcome, std::io::Error> {
    let mut reader = reader;
    let mut out = ReadOutcome::default();
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
            out.errors.push(format!("line {n}: longer than 1 MiB"));
            break;
        }
        let mut bytes = &buf[..];
        if n == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            out.errors
                .push(format!("line {n}: line is not valid UTF-8"));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(text) {
            Ok(event) => out.events.push(NumberedEvent { line: n, event }),
            Err(e) => out.errors.push(format!("line {n}: {e}")),
        }
    }
    Ok(out)
}

/// The first [`MAX_REPORTED`] messages, then `... and K more`.
pub fn abridge(errors: &[String]) -> Vec<String> {
    let mut out: Vec<String> = errors.iter().take(MAX_REPORTED).cloned().collect();
    if errors.len() > MAX_REPORTED {
        out.push(format!("... and {} more", errors.len() - MAX_REPORTED));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTY: &str = r#"{"type":"party","id":"trump","name":"Donald Trump"}"#;

    #[test]
    fn bom_crlf_and_blank_lines_are_tolerated() {
        let input = format!("\u{feff}{PARTY}\r\n\r\n  \n{PARTY}");
        let out = read_events(input.as_bytes()).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let lines: Vec<_> = out.events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 4]);
    }

    #[test]
    fn bad_lines_are_named() {
        let mut input = format!("{PARTY}\nnot json\n").into_bytes();
        input.extend_from_slice(b"\xff\xfe\n");
        input.extend_from_slice(PARTY.as_bytes());
        let out = read_events(&input[..]).unwrap();
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[1].line, 4);
        assert!(
            out.errors[0].starts_with("line 2: malformed JSON"),
            "{:?}",
            out.errors
        );
        assert_eq!(out.errors[1], "line 3: line is not valid UTF-8");
    }

    #[test]
    fn an_overlong_line_stops_reading_at_the_cap() {
        let mut input = format!("{PARTY}\n").into_bytes();
        input.extend(std::iter::repeat_n(b' ', MAX_LINE + 1));
        input.extend_from_slice(b"\nnot json\n");
        let out = read_events(&input[..]).unwrap();
        assert_eq!(out.errors, ["line 2: longer than 1 MiB"]);
        // A line of exactly the cap is read.
        let exact = " ".repeat(MAX_LINE);
        assert!(read_events(exact.as_bytes()).unwrap().errors.is_empty());
    }

    #[test]
    fn cr_only_and_split_crlf_line_ends_end_one_line_each() {
        let input = format!("{PARTY}\r{PARTY}\r\n\r\n{PARTY}\r");
        let out = read_events(input.as_bytes()).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let lines: Vec<_> = out.events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 4]);
        // A CRLF split across two reads is still one line end.
        let split = std::io::BufReader::with_capacity(PARTY.len() + 1, input.as_bytes());
        let lines: Vec<_> = read_events(split)
            .unwrap()
            .events
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [1, 2, 4]);
    }

    #[test]
    fn long_error_lists_are_abridged() {
        let errors: Vec<String> = (1..=25).map(|n| format!("line {n}: bad")).collect();
        let out = abridge(&errors);
        assert_eq!(out.len(), 21);
        assert_eq!(out[20], "... and 5 more");
    }
}
