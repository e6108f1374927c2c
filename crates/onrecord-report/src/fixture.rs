//! Test fixture: the founding story (Paris, November 2018) as a recorded log,
//! folded with the real projections into chart and report inputs. Test-only;
//! no I/O.

use onrecord_core::{
    Event, EventId, Outcome, PartyId, Proposition, PropositionId, PropositionResolved, Recorded,
    Stance, StatementRecorded, StatementRetracted, Window,
};
use onrecord_projections::{
    CalibrationFold, Filter, HistoryEntry, HistoryFold, PositionsFold, ScoreReport, ScoresFold,
    contradictions,
};

use crate::{ChartInput, ChartResolution, PropositionSection, ReportInput};

/// A recorded log plus the propositions it opened.
pub struct Fixture {
    pub records: Vec<Recorded>,
    pub propositions: Vec<Proposition>,
}

fn pid(s: &str) -> PartyId {
    s.parse().unwrap()
}

impl Fixture {
    fn push(&mut self, event: Event) -> EventId {
        let seq = self.records.len() as u64 + 1;
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&seq.to_be_bytes());
        let event_id = EventId::from_bytes(bytes);
        self.records.push(Recorded {
            seq,
            event_id,
            recorded_at: 1_577_836_800_000_000 + seq as i64,
            recorded_by: None,
            event,
        });
        event_id
    }

    fn open(&mut self, id: &str, text: &str, criteria: Option<&str>, window: Option<&str>) {
        let p = Proposition {
            id: id.parse().unwrap(),
            text: text.into(),
            criteria: criteria.map(str::to_owned),
            window: window.map(|w| w.parse::<Window>().unwrap()),
        };
        self.propositions.push(p.clone());
        self.push(Event::PropositionOpened(p));
    }

    fn say(
        &mut self,
        prop: &str,
        party: &str,
        speaker: &str,
        stance: Stance,
        said_at: &str,
        quote: Option<&str>,
    ) -> EventId {
        self.push(Event::StatementRecorded(StatementRecorded {
            proposition: prop.parse().unwrap(),
            party: pid(party),
            speaker: pid(speaker),
            stance,
            credence: stance.midpoint(),
            said_at: said_at.parse().unwrap(),
            quote: quote.map(str::to_owned),
            source: None,
            qualifiers: vec![],
        }))
    }

    /// Every statement on one proposition, in said order.
    pub fn history(&self, prop: &str) -> Vec<HistoryEntry> {
        let mut history = HistoryFold::new(prop.parse().unwrap(), None, Filter::default());
        self.records.iter().for_each(|r| history.apply(r));
        history.finish()
    }

    /// Gives the statement `id` a source and qualifiers.
    fn cite(&mut self, id: EventId, source: &str, qualifiers: &[&str]) {
        let record = self.records.iter_mut().find(|r| r.event_id == id).unwrap();
        if let Event::StatementRecorded(s) = &mut record.event {
            s.source = Some(source.to_owned());
            s.qualifiers = qualifiers.iter().map(|q| (*q).to_owned()).collect();
        }
    }

    /// The chart of one proposition, built from its history as the CLI will.
    pub fn chart(&self, prop: &str) -> ChartInput {
        let p = self.proposition(prop);
        let history = self.history(prop);
        let resolution = self
            .scores()
            .propositions
            .into_iter()
            .find(|s| s.proposition == p.id)
            .map(|s| ChartResolution {
                resolved_at: s.resolved_at,
                outcome: s.outcome,
            });
        ChartInput::from_history(&p, &history, resolution)
    }

    pub fn proposition(&self, prop: &str) -> Proposition {
        let id: PropositionId = prop.parse().unwrap();
        self.propositions
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .clone()
    }

    pub fn scores(&self) -> ScoreReport {
        let mut fold = ScoresFold::new(Filter::default());
        self.records.iter().for_each(|r| fold.apply(r));
        fold.finish()
    }

    /// The whole report input, assembled from the folds as the CLI will.
    pub fn report(&self) -> ReportInput {
        let mut positions = PositionsFold::new(Filter::default(), None);
        let mut calibration = CalibrationFold::new(Filter::default());
        for r in &self.records {
            positions.apply(r);
            calibration.apply(r);
        }
        let Ok(positions) = positions.finish_quoted(|seq| {
            Ok::<_, std::convert::Infallible>(self.records.iter().find(|r| r.seq == seq).cloned())
        });
        let contradictions = contradictions(&positions);
        let scores = self.scores();
        let propositions = self
            .propositions
            .iter()
            .map(|p| {
                PropositionSection::new(
                    p.clone(),
                    &positions,
                    &contradictions,
                    self.chart(p.id.as_str()),
                    self.history(p.id.as_str()),
                    &scores,
                )
            })
            .collect();
        // macron is left unnamed: the report falls back to the id.
        let party_names = [("trump", "Donald Trump"), ("kremlin", "The Kremlin")]
            .into_iter()
            .map(|(id, name)| (pid(id), name.to_owned()))
            .collect();
        ReportInput {
            caption: Some("Demo ledger: Paris, November 2018".into()),
            propositions,
            leaderboard: scores.parties,
            calibration: calibration.finish(),
            party_names,
        }
    }
}

/// Paris, November 2018: bolton (for trump) and putin (for the kremlin) say
/// `likely`, trump `unlikely`, peskov (for the kremlin) `almost-certain`; a
/// misattributed statement is retracted and macron declines; they met on
/// 11 Nov. The G-20 meeting stays open. peskov's statement cites an https
/// source and the qualifier `brief`; trump's a source that is not a URL.
pub fn paris() -> Fixture {
    let mut f = Fixture {
        records: Vec::new(),
        propositions: Vec::new(),
    };
    f.open(
        "paris-meeting",
        "Trump and Putin meet in Paris during the Armistice centenary",
        Some("A bilateral meeting or talk, however brief, reported by both sides"),
        Some("2018-11-10..2018-11-12"),
    );
    f.open(
        "g20-meeting",
        "Trump and Putin meet at the G-20 in Buenos Aires",
        None,
        None,
    );
    let m = "paris-meeting";
    f.say(
        m,
        "trump",
        "bolton",
        Stance::Likely,
        "2018-10-23",
        Some("President Trump would look forward to such a meeting"),
    );
    f.say(m, "kremlin", "putin", Stance::Likely, "2018-10-23", None);
    let probably_not = f.say(
        m,
        "trump",
        "trump",
        Stance::Unlikely,
        "2018-11-05",
        Some("probably not"),
    );
    f.cite(probably_not, "Remarks to reporters, Cleveland", &[]);
    let certainly = f.say(
        m,
        "kremlin",
        "peskov",
        Stance::AlmostCertain,
        "2018-11-06",
        Some("They will certainly meet"),
    );
    f.cite(
        certainly,
        "https://example.org/kremlin?a=1&b=2 (as reported)",
        &["brief"],
    );
    let wrong = f.say(
        m,
        "trump",
        "trump",
        Stance::VeryLikely,
        "2018-11-07",
        Some("misattributed"),
    );
    f.push(Event::StatementRetracted(StatementRetracted {
        statement: wrong,
        reason: "misattributed".into(),
    }));
    f.say(
        m,
        "macron",
        "macron",
        Stance::Declined,
        "2018-11-07",
        Some("No comment"),
    );
    f.push(Event::PropositionResolved(PropositionResolved {
        proposition: m.parse().unwrap(),
        outcome: Outcome::Happened,
        resolved_at: "2018-11-11".parse().unwrap(),
        source: None,
        note: Some("A brief talk at the Armistice lunch".into()),
    }));
    let g = "g20-meeting";
    f.say(
        g,
        "trump",
        "trump",
        Stance::Likely,
        "2018-11-05",
        Some("we will be meeting at the G-20"),
    );
    f.say(
        g,
        "kremlin",
        "peskov",
        Stance::VeryLikely,
        "2018-11-06",
        Some("a long and thorough meeting"),
    );
    f
}
