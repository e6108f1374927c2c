//! `extract [FILE|-]`: the quoted statements of a news article, proposed for
//! review ([`onrecord_extract::extract`] does the work). Never appends.
//!
//! The ledger is optional and only read: with `--ledger` or
//! `$ONRECORD_LEDGER` it must exist; otherwise `./onrecord.ledger` is used
//! when it exists, and no ledger means no party matching. Nothing is created.

use std::io::Read;
use std::path::Path;

use onrecord_core::{PropositionId, When};
use onrecord_extract::{Extraction, PartyDirectory, Statement, extract, html};
use onrecord_ledger::Ledger;
use serde::Serialize;

use crate::args::ExtractArgs;
use crate::context::Context;
use crate::error::{CliError, io_reason, one_line};
use crate::output::{Out, Table, shorten};

/// The most bytes of input read: far above any article, and a bound on memory.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The longest quote a statement can hold (the ledger's limit on long texts).
const MAX_QUOTE_CHARS: usize = 20_000;

/// Reads the article's bytes from the file or standard input; names the input in errors.
fn read_input(file: Option<&Path>) -> Result<(String, Vec<u8>), CliError> {
    let (name, reader): (String, Box<dyn Read>) = match file {
        None => (
            "standard input".to_owned(),
            Box::new(std::io::stdin().lock()),
        ),
        Some(p) if p.as_os_str() == "-" => (
            "standard input".to_owned(),
            Box::new(std::io::stdin().lock()),
        ),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| crate::error::read_error(p, &e))?;
            (p.display().to_string(), Box::new(f))
        }
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::invalid(format!("cannot read {name}: {}", io_reason(&e))))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(CliError::invalid(format!(
            "{name} is larger than {} MiB; extract reads one article at a time",
            MAX_INPUT_BYTES / 1024 / 1024
        )));
    }
    Ok((name, bytes))
}

/// The ledger, if there is one to read: a named one must exist; the default one only if it does.
fn ledger_if_any(ctx: &Context) -> Result<Option<Ledger>, CliError> {
    let named = ctx.explicit_ledger.is_some()
        || std::env::var_os("ONRECORD_LEDGER").is_some_and(|v| !v.is_empty());
    if !named && !ctx.ledger.join("db").exists() {
        return Ok(None);
    }
    ctx.open().map(Some)
}

/// A line `append --jsonl` accepts.
#[derive(Serialize)]
struct StatementLine<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    proposition: &'a str,
    party: &'a str,
    speaker: &'a str,
    stance: &'static str,
    said_at: String,
    quote: &'a str,
    source: Option<&'a str>,
}

/// The quote for the ledger: as written, without the comma that hands over to the attribution.
fn ledger_quote(quote: &str) -> &str {
    quote.trim().trim_end_matches(',').trim_end()
}

/// Why a statement cannot go into `append --jsonl` as it is, if it cannot.
fn unplaceable(st: &Statement, have_ledger: bool) -> Option<String> {
    if let Some(reason) = st.unplaced {
        return Some(format!("no speaker: {reason}"));
    }
    let speaker = st.speaker.as_ref().map_or("", |s| s.resolved.as_str());
    if st.party.is_none() {
        return Some(if have_ledger {
            format!("speaker `{}` is no party of the ledger", one_line(speaker))
        } else {
            format!("speaker `{}` not matched: no ledger", one_line(speaker))
        });
    }
    if st.stance.is_none() {
        return Some("no stance cue in the quote".to_owned());
    }
    if ledger_quote(&st.quote).chars().count() > MAX_QUOTE_CHARS {
        return Some(format!("quote longer than {MAX_QUOTE_CHARS} characters"));
    }
    None
}

/// A party as `GET /v1/parties` answers it.
#[derive(serde::Deserialize)]
struct ServedParty {
    id: String,
    name: String,
    kind: String,
    speaks_for: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

impl ServedParty {
    /// The party it describes; a value this version cannot read is refused.
    fn into_party(self) -> Result<onrecord_core::Party, CliError> {
        let kind = self.kind.parse().map_err(|_| {
            CliError::invalid(format!(
                "the server answered a party kind this version cannot read: `{}`",
                self.kind
            ))
        })?;
        Ok(onrecord_core::Party {
            id: onrecord_core::PartyId::new(&self.id)?,
            name: self.name,
            kind,
            speaks_for: self
                .speaks_for
                .as_deref()
                .map(onrecord_core::PartyId::new)
                .transpose()?,
            aliases: self.aliases,
        })
    }
}

/// Runs `extract`.
pub fn run(ctx: &Context, args: &ExtractArgs) -> Result<(), CliError> {
    if args.jsonl && args.proposition.is_none() {
        return Err(CliError::usage("--jsonl needs --proposition ID"));
    }
    if args.jsonl && args.said_at.is_none() {
        return Err(CliError::usage("--jsonl needs --said-at WHEN"));
    }
    let said_at: Option<When> = args.said_at.as_deref().map(str::parse).transpose()?;
    let proposition = args
        .proposition
        .as_deref()
        .map(PropositionId::new)
        .transpose()?;
    if args.source.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(CliError::invalid("--source must not be blank"));
    }

    let (name, bytes) = read_input(args.file.as_deref())?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(CliError::invalid(format!(
                "{name} is not valid UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            )));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let article;
    let text = if args.html {
        article =
            html::article_text(text).map_err(|e| CliError::invalid(format!("{name}: {e}")))?;
        article.as_str()
    } else {
        text
    };

    let parties = match ctx.remote()? {
        // A server holds the ledger (or --server names one): ask it.
        Some(remote) => {
            if let Some(id) = &proposition {
                let _: serde_json::Value = remote.get_json(
                    &format!("/v1/propositions/{}", crate::remote::segment(id.as_str())),
                    &[],
                )?;
            }
            let served: Vec<ServedParty> = remote.get_json("/v1/parties", &[])?;
            let parties = served
                .into_iter()
                .map(ServedParty::into_party)
                .collect::<Result<Vec<_>, _>>()?;
            Some(PartyDirectory::new(parties))
        }
        None => {
            let ledger = ledger_if_any(ctx)?;
            if let (Some(id), Some(ledger)) = (&proposition, &ledger) {
                onrecord_ledger::query::known_proposition(ledger, id)?;
            }
            ledger
                .as_ref()
                .map(|l| l.parties().map(PartyDirectory::new))
                .transpose()?
        }
    };
    let found = extract(text, parties.as_ref());
    let mut out = Out::new();
    if args.json {
        out.json(&found)?;
        return out.flush();
    }
    if found.statements.is_empty() {
        let message = if text.trim().is_empty() {
            "no quoted statements found (the input is empty)"
        } else {
            "no quoted statements found"
        };
        if args.jsonl {
            eprintln!("{message}");
        } else {
            out.line(message)?;
        }
        return out.flush();
    }
    if args.jsonl {
        write_jsonl(
            &mut out,
            &found,
            args,
            proposition.as_ref(),
            said_at,
            parties.is_some(),
        )
    } else {
        out.table(&review_table(&found))?;
        for offset in &found.unbalanced_quotes {
            eprintln!("note: the quote mark at character {offset} is never closed");
        }
        out.flush()
    }
}

fn write_jsonl(
    out: &mut Out,
    found: &Extraction,
    args: &ExtractArgs,
    proposition: Option<&PropositionId>,
    said_at: Option<When>,
    have_ledger: bool,
) -> Result<(), CliError> {
    let (Some(proposition), Some(said_at)) = (proposition, said_at) else {
        return Err(CliError::usage("--jsonl needs --proposition and --said-at"));
    };
    for st in &found.statements {
        if let Some(reason) = unplaceable(st, have_ledger) {
            eprintln!(
                "skipped: “{}” at character {}: {reason}",
                shorten(&st.quote, 60),
                st.quote_span.start
            );
            continue;
        }
        let (Some(party), Some(stance)) = (&st.party, &st.stance) else {
            continue;
        };
        out.json(&StatementLine {
            ty: "statement",
            proposition: proposition.as_str(),
            party: party.party.as_str(),
            speaker: party.speaker.as_str(),
            stance: stance.stance.name(),
            said_at: said_at.to_string(),
            quote: ledger_quote(&st.quote),
            source: args.source.as_deref(),
        })?;
    }
    out.flush()
}

/// The review table: one row per quote found.
fn review_table(found: &Extraction) -> Table {
    let mut table = Table::new(&[
        "#",
        "KIND",
        "QUOTE",
        "SPEAKER",
        "AS WRITTEN",
        "PARTY",
        "STANCE",
        "CUE",
        "CONF",
    ]);
    for (i, st) in found.statements.iter().enumerate() {
        let (speaker, written) = match &st.speaker {
            Some(s) => (s.resolved.clone(), s.as_written.clone()),
            None => ("?".to_owned(), st.unplaced.unwrap_or("").to_owned()),
        };
        let party = match &st.party {
            Some(p) if p.party != p.speaker => format!("{} for {}", p.speaker, p.party),
            Some(p) => p.party.to_string(),
            None => "-".to_owned(),
        };
        let (stance, cue) = match &st.stance {
            Some(s) => (s.stance.name().to_owned(), s.cue.to_owned()),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let kind = match st.kind {
            onrecord_extract::QuoteKind::Direct => "direct",
            onrecord_extract::QuoteKind::Fragment => "fragment",
        };
        table.row(vec![
            (i + 1).to_string().into(),
            kind.into(),
            format!("“{}”", shorten(ledger_quote(&st.quote), 48)).into(),
            shorten(&speaker, 28).into(),
            shorten(&written, 34).into(),
            party.into(),
            stance.into(),
            cue.into(),
            format!("{:.2}", st.confidence).into(),
        ]);
    }
    table
}
