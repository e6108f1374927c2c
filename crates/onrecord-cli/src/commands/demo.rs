//! `demo`: load the 2018 Armistice story (embedded from
//! `examples/armistice-2018.jsonl`) into a fresh ledger and show what onrecord
//! makes of it: positions as of 6 November 2018 with the Trump-Kremlin
//! contradiction, the current positions, and Trump's history on the G-20 meeting.

use onrecord_core::{PartyId, PropositionId};
use onrecord_ledger::Ledger;
use onrecord_ledger::query::{HistoryQuery, PositionsQuery};
use onrecord_projections::Filter;

use onrecord_wire::{HistoryEntryJson, PropositionPositionsJson};

use crate::bulk::{self, BulkInput};
use crate::context::Context;
use crate::error::{CliError, io_reason};
use crate::output::Out;
use crate::render::{history_table, print_positions};

/// The story, one event per line.
pub const STORY: &str = include_str!("../../../../examples/armistice-2018.jsonl");

/// Loads the story into `ledger` through the CLI's one bulk-append path (as
/// `append --jsonl` would); returns how many events were appended.
fn load_story(ctx: &Context, ledger: &Ledger) -> Result<u64, CliError> {
    let mut story = BulkInput::text("the demo story", STORY);
    bulk::append_jsonl(ctx, ledger, &mut story, false)
        .map(|counts| counts.appended)
        .map_err(|refused| refused.error)
}

/// The query API's proposition views in the shape the tables print.
fn wire_views(views: &[onrecord_ledger::query::PropositionView]) -> Vec<PropositionPositionsJson> {
    views
        .iter()
        .map(PropositionPositionsJson::from_view)
        .collect()
}

/// Runs the demo in `--ledger` if given (a directory or a PostgreSQL
/// database, which must not hold a ledger yet), else in a temporary directory.
pub fn run(ctx: &Context) -> Result<(), CliError> {
    let temp;
    let (ledger, place) = match &ctx.explicit_ledger {
        Some(_) => (ctx.create()?, ctx.ledger_shown()),
        None => {
            temp = tempfile::Builder::new()
                .prefix("onrecord-demo-")
                .tempdir()
                .map_err(|e| {
                    CliError::invalid(format!(
                        "cannot create a temporary directory: {}",
                        io_reason(&e)
                    ))
                })?;
            let path = temp.path().join("ledger");
            (
                ctx.for_ledger(path).create()?,
                "a temporary ledger (removed on exit)".to_owned(),
            )
        }
    };
    let n = load_story(ctx, &ledger)?;
    let mut out = Out::new();
    out.line(format!(
        "Loaded the Armistice 2018 story ({n} events) into {place}."
    ))?;
    out.line("")?;

    out.heading("1. Positions as of 2018-11-06: what each party had said by the end of that day")?;
    out.line("   Trump said \"probably not\" on the 5th; the Kremlin said \"They will certainly meet\" on the 6th.")?;
    let as_of = Filter {
        as_of: Some("2018-11-06".parse()?),
        ..Filter::default()
    };
    let views = ledger.query(&PositionsQuery {
        filter: as_of,
        ..PositionsQuery::default()
    })?;
    print_positions(&mut out, &wire_views(&views))?;
    out.line("")?;

    out.heading("2. Current positions: the latest statement of each party on each proposition")?;
    let views = ledger.query(&PositionsQuery::default())?;
    print_positions(&mut out, &wire_views(&views))?;
    out.line("")?;

    out.heading("3. Trump's history on g20-meeting: from \"we will be meeting\" to cancelling it")?;
    let entries = ledger.query(&HistoryQuery {
        proposition: PropositionId::new("g20-meeting")?,
        party: Some(PartyId::new("trump")?),
        filter: Filter::unfiltered(),
    })?;
    let entries: Vec<HistoryEntryJson> = entries.iter().map(HistoryEntryJson::from).collect();
    out.table(&history_table(&entries))?;
    out.flush()
}
