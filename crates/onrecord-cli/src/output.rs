//! Printing: aligned tables, colour (only on a terminal without `NO_COLOR`),
//! number and quote formatting, and writing lines to stdout.
//!
//! Text meant for a terminal (table cells, replay lines, paths) goes through
//! [`printable`], so stored text cannot drive the terminal (ESC, BEL, C1
//! controls) or reorder what is shown (bidi overrides); JSON is written
//! exactly as stored.
//!
//! Pure formatting plus the stdout writer; it never opens a ledger or decides
//! what to show.

use std::io::{self, BufWriter, IsTerminal, Write};

use onrecord_core::{Side, Stance};

use crate::error::{CliError, io_reason};

/// How long a quote may be in a table before it is shortened with `…`.
pub const QUOTE_WIDTH: usize = 40;

/// Whether to colour stdout: it is a terminal and `NO_COLOR` is unset or empty.
pub fn use_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
}

/// A text style for table cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No styling.
    Plain,
    /// Bold (headers).
    Bold,
    /// Green (leans "it will happen").
    Green,
    /// Red (leans "it will not happen").
    Red,
    /// Yellow (even chance).
    Yellow,
    /// Dim (declined, retracted).
    Dim,
}

impl Style {
    /// The style a stance is shown in.
    pub fn of_stance(stance: Stance, credence: Option<f64>) -> Style {
        match stance.side(credence) {
            Some(Side::High) => Style::Green,
            Some(Side::Low) => Style::Red,
            None if stance == Stance::Declined => Style::Dim,
            None => Style::Yellow,
        }
    }

    fn code(self) -> Option<&'static str> {
        match self {
            Style::Plain => None,
            Style::Bold => Some("1"),
            Style::Green => Some("32"),
            Style::Red => Some("31"),
            Style::Yellow => Some("33"),
            Style::Dim => Some("2"),
        }
    }

    /// `text` wrapped in this style's escape codes when `colour` is on.
    pub fn paint(self, text: &str, colour: bool) -> String {
        match (colour, self.code()) {
            (true, Some(code)) => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_owned(),
        }
    }
}

/// One table cell: its text and style.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The plain text.
    pub text: String,
    /// How to paint it.
    pub style: Style,
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Self {
        Cell {
            text: text.into(),
            style: Style::Plain,
        }
    }
}

/// A cell with a style.
pub fn styled(text: impl Into<String>, style: Style) -> Cell {
    Cell {
        text: text.into(),
        style,
    }
}

/// A table with a bold header row, columns aligned on plain-text width.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as headings).
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines (no trailing spaces), two spaces between columns,
    /// every cell made [`printable`].
    pub fn render(&self, colour: bool) -> Vec<String> {
        let n = self.header.len();
        let rows: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| styled(printable(&c.text), c.style))
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                widths[i] = widths[i].max(width(&cell.text));
            }
        }
        let line = |cells: Vec<Cell>| {
            let last = cells.len().saturating_sub(1);
            let mut out = String::new();
            for (i, cell) in cells.into_iter().enumerate() {
                out.push_str(&cell.style.paint(&cell.text, colour));
                if i < last {
                    let pad = widths[i] - width(&cell.text) + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = vec![line(
            self.header
                .iter()
                .map(|h| styled(h.clone(), Style::Bold))
                .collect(),
        )];
        out.extend(rows.into_iter().map(line));
        out
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A credence as a percentage: `97%`, `32.5%`, or `-` for none.
pub fn percent(credence: Option<f64>) -> String {
    match credence {
        None => "-".to_owned(),
        Some(c) => {
            let p = (c * 1000.0).round() / 10.0;
            if p.fract() == 0.0 {
                format!("{p:.0}%")
            } else {
                format!("{p:.1}%")
            }
        }
    }
}

/// A number rounded to 6 decimals, as the JSON shapes round scores (defined in `onrecord-wire`).
pub use onrecord_wire::round6;

/// `text` safe to show on a terminal, on one line: controls and bidi
/// overrides escaped as `\u{1b}`, `\u{202e}` (see [`onrecord_core::error::is_unsafe_in_terminal`]).
pub fn printable(text: &str) -> String {
    crate::error::one_line(text)
}

/// `text` cut to `max` characters with `…`, on one line: line breaks and
/// other controls become spaces, bidi overrides are escaped.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = printable(&flat);
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Buffered stdout that turns a closed pipe into a quiet stop.
pub struct Out {
    inner: BufWriter<io::StdoutLock<'static>>,
    /// Whether to colour what is written.
    pub colour: bool,
}

impl Out {
    /// Locks stdout for writing.
    pub fn new() -> Self {
        Self {
            inner: BufWriter::new(io::stdout().lock()),
            colour: use_colour(),
        }
    }

    /// Writes one line.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<(), CliError> {
        writeln!(self.inner, "{}", text.as_ref()).map_err(write_error)
    }

    /// Writes bytes as they are (no line end added), e.g. a CSV document.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.inner.write_all(bytes).map_err(write_error)
    }

    /// Writes one serialisable value as compact JSON on one line.
    pub fn json<T: serde::Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string(value)
            .map_err(|e| CliError::invalid(format!("cannot write JSON: {e}")))?;
        self.line(text)
    }

    /// Writes a table's lines.
    pub fn table(&mut self, table: &Table) -> Result<(), CliError> {
        for l in table.render(self.colour) {
            self.line(l)?;
        }
        Ok(())
    }

    /// A bold heading line.
    pub fn heading(&mut self, text: &str) -> Result<(), CliError> {
        let t = Style::Bold.paint(text, self.colour);
        self.line(t)
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        self.inner.flush().map_err(write_error)
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// The exit code meaning "stdout was closed by the reader": stop quietly with success.
pub const BROKEN_PIPE: i32 = -1;

fn write_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError {
            code: BROKEN_PIPE,
            lines: Vec::new(),
        }
    } else {
        CliError::invalid(format!("cannot write to stdout: {}", io_reason(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_rounding() {
        assert_eq!(percent(Some(0.97)), "97%");
        assert_eq!(percent(Some(0.325)), "32.5%");
        assert_eq!(percent(Some(0.125)), "12.5%");
        assert_eq!(percent(None), "-");
        assert_eq!(round6(0.97 - 0.325), 0.645);
        assert_eq!(
            serde_json::to_string(&round6(0.97 - 0.325)).unwrap(),
            "0.645"
        );
    }

    #[test]
    fn quotes_are_shortened_on_one_line() {
        assert_eq!(shorten("short", 40), "short");
        assert_eq!(shorten(&"abcd ".repeat(20), 10), "abcd abcd…");
        assert_eq!(shorten("a\nb", 10), "a b");
        assert_eq!(shorten("\u{1b}[2Ja\u{202e}b", 20), " [2Ja\\u{202e}b");
    }

    #[test]
    fn table_cells_cannot_drive_the_terminal() {
        let mut t = Table::new(&["A", "B"]);
        t.row(vec!["\u{1b}]0;x\u{7}".into(), "\u{202e}gnp".into()]);
        assert_eq!(t.render(false)[1], "\\u{1b}]0;x\\u{7}  \\u{202e}gnp");
    }

    #[test]
    fn tables_align_on_plain_width() {
        let mut t = Table::new(&["A", "BB"]);
        t.row(vec![styled("xyz", Style::Red), "1".into()]);
        assert_eq!(t.render(false), vec!["A    BB", "xyz  1"]);
        assert!(t.render(true)[1].contains("\x1b[31mxyz\x1b[0m  1"));
    }
}
