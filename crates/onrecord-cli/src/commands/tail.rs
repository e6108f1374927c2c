//! `tail`: the log from a seq on, and with `--follow` every event as it is
//! recorded. On a local ledger it prints what is there and stops (no other
//! process can append while this one holds the ledger); through a server
//! (`--server`, or the socket of a local `onrecord serve`) it reads the live
//! tail: catch-up, the caught-up marker, then live events, with no gap and
//! no duplicate.
//!
//! Lines are `export`'s JSON Lines with `--json`, else `replay`'s text
//! lines; both are made alike from a local record or a server's line.

use std::io::BufRead;

use onrecord_core::{Recorded, When, write_line};

use crate::args::TailArgs;
use crate::context::Context;
use crate::error::{BUSY, CliError};
use crate::output::{Out, printable};
use crate::remote::{Remote, recorded_of};
use crate::render::summary;

/// Runs `tail`.
pub fn run(ctx: &Context, args: &TailArgs) -> Result<(), CliError> {
    match ctx.remote()? {
        Some(remote) => from_server(&remote, args),
        None if args.follow => Err(CliError::invalid(format!(
            "tail --follow needs a server: nothing else can append to {} while this process reads it; \
             run `onrecord serve` on it (commands then reach it through its socket) or give --server",
            crate::output::printable(&ctx.ledger_shown())
        ))),
        None => {
            let ledger = ctx.open()?;
            let mut out = Out::new();
            for rec in ledger.records_checked(args.from.max(1), u64::MAX) {
                let rec = rec?;
                print(&mut out, &rec, None, args.json)?;
            }
            out.flush()
        }
    }
}

/// Prints one event: its JSON line (the server's, when it sent one) or its text line.
fn print(out: &mut Out, rec: &Recorded, line: Option<&str>, json: bool) -> Result<(), CliError> {
    if json {
        match line {
            Some(l) => out.line(l),
            None => out.line(write_line(rec)),
        }
    } else {
        out.line(format!(
            "{:>6}  {:<27}  {:<11}  {}",
            rec.seq,
            When::instant(rec.recorded_at).to_rfc3339(),
            rec.event.event_type().json_name(),
            printable(&summary(rec))
        ))
    }
}

/// The live tail through a server, until caught up (or, with `--follow`, until it ends).
fn from_server(remote: &Remote, args: &TailArgs) -> Result<(), CliError> {
    let body = remote.get_stream(
        "/v1/events",
        &[("from", args.from.max(1).to_string())],
        "application/x-ndjson",
    )?;
    let mut out = Out::new();
    for line in std::io::BufReader::new(body).lines() {
        let Ok(line) = line else {
            break;
        };
        let item: TailLine = serde_json::from_str(&line).map_err(|e| {
            CliError::invalid(format!(
                "{} sent a line this version cannot read: {e}",
                remote.shown()
            ))
        })?;
        match (item.kind.as_str(), item.event) {
            ("event", Some(event)) => {
                // The event as the server wrote it: its bytes, keys in their order.
                let event = event.get();
                let rec = recorded_of(event).ok_or_else(|| {
                    CliError::invalid(format!(
                        "{} sent an event this version cannot read: {}",
                        remote.shown(),
                        printable(event)
                    ))
                })?;
                print(&mut out, &rec, Some(event), args.json)?;
                if args.follow {
                    out.flush()?;
                }
            }
            ("caught-up", _) if !args.follow => return out.flush(),
            _ => {}
        }
    }
    out.flush()?;
    Err(CliError::new(
        BUSY,
        format!(
            "{} ended the live tail (it stopped, or the token was revoked)",
            remote.shown()
        ),
    ))
}

/// One typed line of the live tail (`event`, `caught-up` or `heartbeat`).
#[derive(serde::Deserialize)]
struct TailLine {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    event: Option<Box<serde_json::value::RawValue>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::seq_of;

    #[test]
    fn an_export_line_reads_back_as_the_record_it_was_written_from() {
        let line = r#"{"type":"statement","seq":7,"event_id":"0193a3b0-0000-7000-8000-000000000001","recorded_at":"2018-11-06T10:00:00Z","proposition":"paris-meeting","party":"kremlin","speaker":"peskov","stance":"almost-certain","credence":0.95,"said_at":"2018-11-06","quote":"They will certainly meet","source":null,"qualifiers":[]}"#;
        let rec = recorded_of(line).expect("a full export line");
        assert_eq!(rec.seq, 7);
        assert_eq!(write_line(&rec), line);
        assert_eq!(seq_of(line), Some(7));
        assert!(recorded_of(r#"{"type":"party","id":"x","name":"X"}"#).is_none());
    }
}
