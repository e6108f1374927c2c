//! CSV output (`--csv`): RFC 4180 documents with a header row and CRLF line
//! ends, quoting only fields that need it (commas, double quotes, line breaks).
//!
//! Any command can print CSV by building its rows as strings and calling
//! [`print_csv`] (or [`to_csv`] for the bytes). Pure formatting: no ledger
//! access, and no choice of which columns a command shows.

use crate::error::CliError;
use crate::output::Out;

/// A CSV document: `headers`, then each row (as many fields as headers), CRLF-terminated.
pub fn to_csv<R, F>(headers: &[&str], rows: R) -> Result<Vec<u8>, CliError>
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| CliError::invalid(format!("cannot write CSV: {e}"));
    w.write_record(headers).map_err(fail)?;
    for row in rows {
        w.write_record(&row).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| CliError::invalid(format!("cannot write CSV: {}", e.error())))
}

/// Writes a CSV document (see [`to_csv`]) to `out`.
pub fn print_csv<R, F>(out: &mut Out, headers: &[&str], rows: R) -> Result<(), CliError>
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<[u8]>,
{
    let bytes = to_csv(headers, rows)?;
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
            &["a", "b"],
            vec![
                vec!["plain".to_owned(), "x, \"y\"\nz".to_owned()],
                vec![String::new(), number(Some(0.97 - 0.325))],
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "a,b\r\nplain,\"x, \"\"y\"\"\nz\"\r\n,0.645\r\n"
        );
        assert_eq!(number(None), "");
    }
}
