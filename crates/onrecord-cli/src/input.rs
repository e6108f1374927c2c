//! Reading JSON Lines input for `append --jsonl`: numbering lines, skipping
//! blank ones, tolerating a UTF-8 BOM and CRLF line ends, refusing invalid
//! UTF-8 and over-long lines, and parsing each line with
//! [`onrecord_core::parse_line`].
//!
//! No ledger access here: the caller appends what this returns.

use std::io::{BufRead, Read};

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

/// Reads and parses every line of `reader`; I/O failures are returned as `Err(reason)`.
pub fn read_events(reader: impl BufRead) -> Result<ReadOutcome, std::io::Error> {
    let mut reader = reader;
    let mut out = ReadOutcome::default();
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        n += 1;
        let complete = buf.last() == Some(&b'\n');
        if complete {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > MAX_LINE {
            out.errors
                .push(format!("line {n}: line is longer than {MAX_LINE} bytes"));
            // Skip the rest of this line.
            if !complete {
                let mut sink = Vec::new();
                reader.read_until(b'\n', &mut sink)?;
            }
            continue;
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
        input.extend(std::iter::repeat_n(b' ', MAX_LINE + 10));
        input.extend_from_slice(b"\n");
        input.extend_from_slice(PARTY.as_bytes());
        let out = read_events(&input[..]).unwrap();
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[1].line, 5);
        assert!(
            out.errors[0].starts_with("line 2: malformed JSON"),
            "{:?}",
            out.errors
        );
        assert_eq!(out.errors[1], "line 3: line is not valid UTF-8");
        assert_eq!(
            out.errors[2],
            format!("line 4: line is longer than {MAX_LINE} bytes")
        );
    }

    #[test]
    fn long_error_lists_are_abridged() {
        let errors: Vec<String> = (1..=25).map(|n| format!("line {n}: bad")).collect();
        let out = abridge(&errors);
        assert_eq!(out.len(), 21);
        assert_eq!(out[20], "... and 5 more");
    }
}
