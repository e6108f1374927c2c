//! CSV output (`--csv`): RFC 4180 documents with a header row and CRLF line
//! ends, quoting only fields that need it (commas, double quotes, line breaks).
//!
//! By default cells are made safe to open in a spreadsheet and to print on a
//! terminal, as OWASP's CSV-injection guidance says: a text cell starting
//! with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'` so it is not
//! taken for a formula, and controls other than tab and line breaks, and bidi
//! overrides, are escaped (`\u{1b}`, `\u{202e}`). Numeric columns are left
//! alone (a negative log score is data). `--csv-exact` ([`CsvCells::Exact`])
//! writes every cell as recorded, for scripts.
//!
//! Any command can print CSV by building its rows as strings and calling
//! [`print_csv`] (or [`to_csv`] for the bytes). Pure formatting: no ledger
//! access, and no choice of which columns a command shows.

use std::borrow::Cow;

use onrecord_core::error::is_unsafe_in_terminal;

use crate::error::CliError;
use crate::output::Out;

/// How cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvCells {
    /// Neutralised for spreadsheets and terminals (the default).
    Safe,
    /// Exactly as recorded (`--csv-exact`).
    Exact,
}

impl CsvCells {
    /// `Exact` when `--csv-exact` was given, else `Safe`.
    pub fn from_flag(exact: bool) -> Self {
        if exact { Self::Exact } else { Self::Safe }
    }
}

/// The columns of a CSV document and which of them hold numbers.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    /// The header row.
    pub names: &'a [&'a str],
    /// The columns whose cells are numbers (never prefixed while they read as one).
    pub numeric: &'a [&'a str],
}

/// Whether a spreadsheet could take a text cell starting with `c` for a formula.
fn starts_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// A cell as `cells` says to write it; `numeric` cells that read as numbers are kept.
pub fn neutralise(cell: &str, numeric: bool, cells: CsvCells) -> Cow<'_, str> {
    if cells == CsvCells::Exact || (numeric && cell.parse::<f64>().is_ok()) {
        return Cow::Borrowed(cell);
    }
    let unsafe_char = |c: char| is_unsafe_in_terminal(c) && !matches!(c, '\t' | '\n' | '\r');
    let formula = starts_formula(cell);
    if !formula && !cell.chars().any(unsafe_char) {
        return Cow::Borrowed(cell);
    }
    let mut out = String::with_capacity(cell.len() + 8);
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A CSV document: the header row, then each row (one field per column), CRLF-terminated.
pub fn to_csv<R, F>(columns: Columns<'_>, rows: R, cells: CsvCells) -> Result<Vec<u8>, CliError>
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<str>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| CliError::invalid(format!("cannot write CSV: {e}"));
    w.write_record(columns.names).map_err(fail)?;
    let numeric: Vec<bool> = columns
        .names
        .iter()
        .map(|n| columns.numeric.contains(n))
        .collect();
    for row in rows {
        let fields = row.iter().enumerate().map(|(i, f)| {
            let is_numeric = numeric.get(i).copied().unwrap_or(false);
            neutralise(f.as_ref(), is_numeric, cells).into_owned()
        });
        w.write_record(fields).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| CliError::invalid(format!("cannot write CSV: {}", e.error())))
}

/// Writes a CSV document (see [`to_csv`]) to `out`.
pub fn print_csv<R, F>(
    out: &mut Out,
    columns: Columns<'_>,
    rows: R,
    cells: CsvCells,
) -> Result<(), CliError>
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<str>,
{
    let bytes = to_csv(columns, rows, cells)?;
    out.bytes(&bytes)
}

/// A number for a CSV cell, rounded to 6 decimals; empty when there is none.
pub fn number(x: Option<f64>) -> String {
    x.map(|x| crate::output::round6(x).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let doc = to_csv(
            Columns {
                names: &["a", "b"],
                numeric: &["b"],
            },
            vec![
                vec!["plain".to_owned(), "x, \"y\"\nz".to_owned()],
                vec![String::new(), number(Some(0.97 - 0.325))],
            ],
            CsvCells::Safe,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "a,b\r\nplain,\"x, \"\"y\"\"\nz\"\r\n,0.645\r\n"
        );
        assert_eq!(number(None), "");
    }

    #[test]
    fn formula_cells_and_controls_are_neutralised_unless_exact() {
        let safe = |s| neutralise(s, false, CsvCells::Safe).into_owned();
        assert_eq!(safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(safe("-1"), "'-1");
        assert_eq!(safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe("\tx"), "'\tx");
        assert_eq!(safe("\rx"), "'\rx");
        assert_eq!(
            safe("a\u{1b}]0;x\u{7}\nb\u{202e}"),
            "a\\u{1b}]0;x\\u{7}\nb\\u{202e}"
        );
        assert_eq!(safe("a-b = c"), "a-b = c");
        assert_eq!(neutralise("-0.25", true, CsvCells::Safe), "-0.25");
        assert_eq!(neutralise("-cmd", true, CsvCells::Safe), "'-cmd");
        assert_eq!(
            neutralise("=1+1\u{1b}", false, CsvCells::Exact),
            "=1+1\u{1b}"
        );
    }
}
