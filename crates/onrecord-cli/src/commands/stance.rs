//! `stance PHRASE`: which stance band the lexicon
//! ([`onrecord_core::lexicon::suggest`]) suggests for a phrase, and which cue
//! matched. Always exit 0: "no cue found" is an answer, not an error.
//!
//! It only suggests: it never opens a ledger, and `append statement` still
//! needs an explicit `--stance`.

use onrecord_core::Stance;
use onrecord_core::lexicon::suggest;
use serde::Serialize;

use crate::args::StanceArgs;
use crate::error::CliError;
use crate::output::{Out, Style, percent};

/// A band's inclusive ends.
#[derive(Debug, Serialize)]
struct BandJson {
    low: f64,
    high: f64,
}

/// What `stance --json` prints; every field but `phrase` is null when no cue is found.
#[derive(Debug, Serialize)]
struct StanceJson {
    phrase: String,
    stance: Option<&'static str>,
    cue: Option<&'static str>,
    origin: Option<&'static str>,
    negated: Option<bool>,
    matched: Option<String>,
    band: Option<BandJson>,
    midpoint: Option<f64>,
}

/// Prints the suggested stance for the phrase.
pub fn run(args: &StanceArgs) -> Result<(), CliError> {
    let phrase = args.phrase.join(" ");
    let found = suggest(&phrase);
    let mut out = Out::new();
    if args.json {
        let json = match &found {
            Some(s) => StanceJson {
                phrase,
                stance: Some(s.stance.name()),
                cue: Some(s.cue),
                origin: Some(s.origin.name()),
                negated: Some(s.negated),
                matched: Some(s.matched.clone()),
                band: s.stance.band().map(|(low, high)| BandJson { low, high }),
                midpoint: s.stance.midpoint(),
            },
            None => StanceJson {
                phrase,
                stance: None,
                cue: None,
                origin: None,
                negated: None,
                matched: None,
                band: None,
                midpoint: None,
            },
        };
        out.json(&json)?;
        return out.flush();
    }
    match found {
        None => {
            out.line("no cue found")?;
            let names: Vec<&str> = Stance::ALL.iter().map(|s| s.name()).collect();
            out.line(format!("choose a stance yourself: {}", names.join(", ")))?;
        }
        Some(s) => {
            let band = match (s.stance.band(), s.stance.midpoint()) {
                (Some((low, high)), Some(mid)) => format!(
                    " ({}-{}, midpoint {})",
                    percent(Some(low)),
                    percent(Some(high)),
                    percent(Some(mid))
                ),
                _ => " (no credence)".to_owned(),
            };
            let name =
                Style::of_stance(s.stance, s.stance.midpoint()).paint(s.stance.name(), out.colour);
            out.line(format!("{name}{band}"))?;
            let negated = if s.negated { ", negated" } else { "" };
            out.line(format!(
                "cue: \"{}\" ({}{negated}), matched \"{}\"",
                s.cue,
                s.origin,
                crate::error::one_line(&s.matched)
            ))?;
            out.line(format!(
                "a suggestion only: record it with `append statement --stance {}`",
                s.stance
            ))?;
        }
    }
    out.flush()
}
