//! The SQL read interface's tables (schema version 2, `docs/sql.md`): each
//! record the keyspace holds, decoded into a row of the table for its event
//! type (`onrecord.recorded_parties`, `recorded_propositions`,
//! `recorded_statements`, `recorded_retractions`, `recorded_resolutions`),
//! written by the same statement as the write set that puts or deletes the
//! record's `R` key, so the rows are always exactly the keyspace's records.
//! The documented views over them (`onrecord.statements`,
//! `current_positions`, `contradictions`, ...) are in
//! `migrations/0002_read_tables.sql` and show only records up to the head
//! row, so the staged chunks of an unfinished import never show.
//!
//! What lives here: turning records into rows ([`ReadRows`]), the SQL that
//! writes them ([`write_rows_ctes`]) and the backfill of a ledger migrated
//! from schema version 1 ([`backfill`]). The engine never reads these tables
//! and nothing here decides what a position is: the views state the ledger's
//! rules (`onrecord-projections`' `summary.rs`) in SQL, and the tests compare
//! their answers with the CLI's.

use onrecord_core::{Event, Recorded};
use onrecord_ledger::{envelope, keys};
use serde_json::{Value, json};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Transaction};

/// The common-table expressions that write a write set's read rows: deletes
/// by seq (`$7`, records deleted or no longer decodable; joined with the
/// unnested array, so that a plan made once for any parameters looks each
/// seq up by index rather than scanning the table), then one upsert
/// per table from a JSON array of rows (`$8` parties, `$9` propositions,
/// `$10` statements, `$11` retractions, `$12` resolutions). Times arrive as
/// microseconds since the epoch and are turned into `timestamptz` exactly.
/// Each writes only where `{WHEN}` holds: see [`write_rows_ctes`].
const WRITE_ROWS_CTES: &str = "
gone_parties AS (DELETE FROM onrecord.recorded_parties t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {WHEN}),
gone_propositions AS (DELETE FROM onrecord.recorded_propositions t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {WHEN}),
gone_statements AS (DELETE FROM onrecord.recorded_statements t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {WHEN}),
gone_retractions AS (DELETE FROM onrecord.recorded_retractions t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {WHEN}),
gone_resolutions AS (DELETE FROM onrecord.recorded_resolutions t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {WHEN}),
new_parties AS (
    INSERT INTO onrecord.recorded_parties
        (seq, event_id, recorded_at, recorded_by, party, name, kind, speaks_for, aliases)
    SELECT r.seq, r.event_id, onrecord.micros_to_time(r.recorded_at), r.recorded_by,
           r.party, r.name, r.kind, r.speaks_for, r.aliases
    FROM jsonb_to_recordset($8::text::jsonb) AS r(seq bigint, event_id uuid, recorded_at bigint,
        recorded_by text, party text, name text, kind text, speaks_for text, aliases text[])
    WHERE {WHEN}
    ON CONFLICT (seq) DO UPDATE SET event_id = EXCLUDED.event_id,
        recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
        party = EXCLUDED.party, name = EXCLUDED.name, kind = EXCLUDED.kind,
        speaks_for = EXCLUDED.speaks_for, aliases = EXCLUDED.aliases
),
new_propositions AS (
    INSERT INTO onrecord.recorded_propositions
        (seq, event_id, recorded_at, recorded_by, proposition, text, criteria, window_from, window_to)
    SELECT r.seq, r.event_id, onrecord.micros_to_time(r.recorded_at), r.recorded_by,
           r.proposition, r.text, r.criteria,
           onrecord.micros_to_time(r.window_from), onrecord.micros_to_time(r.window_to)
    FROM jsonb_to_recordset($9::text::jsonb) AS r(seq bigint, event_id uuid, recorded_at bigint,
        recorded_by text, proposition text, text text, criteria text, window_from bigint,
        window_to bigint)
    WHERE {WHEN}
    ON CONFLICT (seq) DO UPDATE SET event_id = EXCLUDED.event_id,
        recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
        proposition = EXCLUDED.proposition, text = EXCLUDED.text,
        criteria = EXCLUDED.criteria, window_from = EXCLUDED.window_from,
        window_to = EXCLUDED.window_to
),
new_statements AS (
    INSERT INTO onrecord.recorded_statements
        (seq, event_id, recorded_at, recorded_by, proposition, party, speaker, stance,
         credence, said_at, said_at_precision, quote, source, qualifiers)
    SELECT r.seq, r.event_id, onrecord.micros_to_time(r.recorded_at), r.recorded_by,
           r.proposition, r.party, r.speaker, r.stance, r.credence,
           onrecord.micros_to_time(r.said_at), r.said_at_precision, r.quote, r.source,
           r.qualifiers
    FROM jsonb_to_recordset($10::text::jsonb) AS r(seq bigint, event_id uuid, recorded_at bigint,
        recorded_by text, proposition text, party text, speaker text, stance text,
        credence double precision, said_at bigint, said_at_precision text, quote text,
        source text, qualifiers text[])
    WHERE {WHEN}
    ON CONFLICT (seq) DO UPDATE SET event_id = EXCLUDED.event_id,
        recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
        proposition = EXCLUDED.proposition, party = EXCLUDED.party,
        speaker = EXCLUDED.speaker, stance = EXCLUDED.stance, credence = EXCLUDED.credence,
        said_at = EXCLUDED.said_at, said_at_precision = EXCLUDED.said_at_precision,
        quote = EXCLUDED.quote, source = EXCLUDED.source, qualifiers = EXCLUDED.qualifiers
),
new_retractions AS (
    INSERT INTO onrecord.recorded_retractions
        (seq, event_id, recorded_at, recorded_by, statement, reason)
    SELECT r.seq, r.event_id, onrecord.micros_to_time(r.recorded_at), r.recorded_by,
           r.statement, r.reason
    FROM jsonb_to_recordset($11::text::jsonb) AS r(seq bigint, event_id uuid, recorded_at bigint,
        recorded_by text, statement uuid, reason text)
    WHERE {WHEN}
    ON CONFLICT (seq) DO UPDATE SET event_id = EXCLUDED.event_id,
        recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
        statement = EXCLUDED.statement, reason = EXCLUDED.reason
),
new_resolutions AS (
    INSERT INTO onrecord.recorded_resolutions
        (seq, event_id, recorded_at, recorded_by, proposition, outcome, resolved_at,
         resolved_at_precision, source, note)
    SELECT r.seq, r.event_id, onrecord.micros_to_time(r.recorded_at), r.recorded_by,
           r.proposition, r.outcome, onrecord.micros_to_time(r.resolved_at),
           r.resolved_at_precision, r.source, r.note
    FROM jsonb_to_recordset($12::text::jsonb) AS r(seq bigint, event_id uuid, recorded_at bigint,
        recorded_by text, proposition text, outcome text, resolved_at bigint,
        resolved_at_precision text, source text, note text)
    WHERE {WHEN}
    ON CONFLICT (seq) DO UPDATE SET event_id = EXCLUDED.event_id,
        recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
        proposition = EXCLUDED.proposition, outcome = EXCLUDED.outcome,
        resolved_at = EXCLUDED.resolved_at,
        resolved_at_precision = EXCLUDED.resolved_at_precision,
        source = EXCLUDED.source, note = EXCLUDED.note
)";

/// [`WRITE_ROWS_CTES`] writing only when the SQL condition `when` holds
/// (`true`; or the head check of a conditional commit, so that a write set
/// built on a moved head writes no row).
pub(crate) fn write_rows_ctes(when: &str) -> String {
    WRITE_ROWS_CTES.replace("{WHEN}", when)
}

/// The statement the backfill writes each page of rows with: the read-row
/// CTEs alone, with `$1`..`$6` (the keyspace's parameters in the write
/// set's statement) bound and unused.
fn backfill_sql() -> String {
    format!(
        "WITH unused AS (SELECT $1::bytea[], $2::bytea[], $3::bytea[], $4::bigint, $5::bytea, $6::bigint),
        {}
        SELECT 1",
        write_rows_ctes("true")
    )
}

/// The read rows one write set adds and removes, as the statement's
/// parameters `$7`..`$12` take them.
#[derive(Debug, Default)]
pub(crate) struct ReadRows {
    /// Seqs whose rows go: records deleted, or put but not decodable.
    gone: Vec<i64>,
    parties: Vec<Value>,
    propositions: Vec<Value>,
    statements: Vec<Value>,
    retractions: Vec<Value>,
    resolutions: Vec<Value>,
}

impl ReadRows {
    /// Notes a put or delete of `key`: a record key adds the row of its
    /// record (or removes the rows of its seq); other keys are not records
    /// and have no row. A record that does not decode has no row (`verify`
    /// names it); its seq's old rows go, so no row outlives its record.
    pub(crate) fn note(&mut self, key: &[u8], value: Option<&[u8]>) {
        let Some(seq) = keys::record_seq(key) else {
            return;
        };
        let Ok(signed) = i64::try_from(seq) else {
            return;
        };
        match value.map(|bytes| envelope::decode_recorded(bytes, seq)) {
            Some(Ok(record)) => self.add(signed, &record),
            Some(Err(_)) | None => self.gone.push(signed),
        }
    }

    fn add(&mut self, seq: i64, record: &Recorded) {
        let common = |mut row: Value| {
            if let Value::Object(map) = &mut row {
                map.insert("seq".into(), json!(seq));
                map.insert("event_id".into(), json!(record.event_id.to_string()));
                map.insert("recorded_at".into(), json!(record.recorded_at));
                map.insert(
                    "recorded_by".into(),
                    json!(record.recorded_by.as_ref().map(|r| r.as_str())),
                );
            }
            row
        };
        match &record.event {
            Event::PartyRegistered(p) => self.parties.push(common(json!({
                "party": p.id.as_str(),
                "name": p.name,
                "kind": p.kind.name(),
                "speaks_for": p.speaks_for.as_ref().map(|s| s.as_str()),
                "aliases": p.aliases,
            }))),
            Event::PropositionOpened(p) => self.propositions.push(common(json!({
                "proposition": p.id.as_str(),
                "text": p.text,
                "criteria": p.criteria,
                "window_from": p.window.map(|w| w.from.micros()),
                "window_to": p.window.map(|w| w.to.micros()),
            }))),
            Event::StatementRecorded(s) => self.statements.push(common(json!({
                "proposition": s.proposition.as_str(),
                "party": s.party.as_str(),
                "speaker": s.speaker.as_str(),
                "stance": s.stance.name(),
                "credence": s.credence,
                "said_at": s.said_at.micros(),
                "said_at_precision": precision_name(s.said_at),
                "quote": s.quote,
                "source": s.source,
                "qualifiers": s.qualifiers,
            }))),
            Event::StatementRetracted(r) => self.retractions.push(common(json!({
                "statement": r.statement.to_string(),
                "reason": r.reason,
            }))),
            Event::PropositionResolved(r) => self.resolutions.push(common(json!({
                "proposition": r.proposition.as_str(),
                "outcome": r.outcome.name(),
                "resolved_at": r.resolved_at.micros(),
                "resolved_at_precision": precision_name(r.resolved_at),
                "source": r.source,
                "note": r.note,
            }))),
        }
    }

    /// The parameters `$7`..`$12`, in order.
    pub(crate) fn parameters(&self) -> ReadParameters {
        let array = |rows: &[Value]| Value::Array(rows.to_vec()).to_string();
        ReadParameters {
            gone: self.gone.clone(),
            tables: [
                array(&self.parties),
                array(&self.propositions),
                array(&self.statements),
                array(&self.retractions),
                array(&self.resolutions),
            ],
        }
    }

    /// How many rows it writes or removes.
    fn len(&self) -> usize {
        self.gone.len()
            + self.parties.len()
            + self.propositions.len()
            + self.statements.len()
            + self.retractions.len()
            + self.resolutions.len()
    }
}

/// The read rows' statement parameters, owned so they can be borrowed as `ToSql`.
pub(crate) struct ReadParameters {
    gone: Vec<i64>,
    tables: [String; 5],
}

impl ReadParameters {
    /// The parameters `$7`..`$12` as the client binds them.
    pub(crate) fn as_params(&self) -> [&(dyn ToSql + Sync); 6] {
        [
            &self.gone,
            &self.tables[0],
            &self.tables[1],
            &self.tables[2],
            &self.tables[3],
            &self.tables[4],
        ]
    }
}

/// `day` or `instant`: how precise a time is, as the tables name it.
fn precision_name(when: onrecord_core::When) -> &'static str {
    match when.precision() {
        onrecord_core::Precision::Day => "day",
        onrecord_core::Precision::Instant => "instant",
    }
}

/// How many records the backfill decodes and writes per statement.
const BACKFILL_PAGE: i32 = 1_000;

/// Fills the read tables from every record the keyspace holds (a ledger
/// made at schema version 1), inside the migration's transaction, a page at
/// a time so memory stays bounded whatever the ledger's size.
pub(crate) async fn backfill(tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    let start = keys::record(0).to_vec();
    let end = keys::prefix_end(&[keys::RECORD]);
    let select = tx
        .prepare(
            "SELECT key, value FROM onrecord.keyspace WHERE key >= $1 AND key < $2 ORDER BY key",
        )
        .await?;
    let write = tx.prepare(&backfill_sql()).await?;
    let portal = tx.bind(&select, &[&start, &end]).await?;
    loop {
        let page = tx.query_portal(&portal, BACKFILL_PAGE).await?;
        let mut rows = ReadRows::default();
        for row in &page {
            let (key, value): (Vec<u8>, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
            rows.note(&key, Some(&value));
        }
        if rows.len() > 0 {
            write_rows(tx, &write, &rows).await?;
        }
        if page.len() < BACKFILL_PAGE as usize {
            return Ok(());
        }
    }
}

/// Runs the backfill statement for one page of rows.
async fn write_rows(
    client: &impl GenericClient,
    statement: &tokio_postgres::Statement,
    rows: &ReadRows,
) -> Result<(), tokio_postgres::Error> {
    let none_keys: Vec<Vec<u8>> = Vec::new();
    let (no_seq, no_hash, no_time): (Option<i64>, Option<Vec<u8>>, Option<i64>) =
        (None, None, None);
    let read = rows.parameters();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &none_keys, &none_keys, &none_keys, &no_seq, &no_hash, &no_time,
    ];
    params.extend(read.as_params());
    client.execute(statement, &params).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_records_have_no_rows_and_a_deleted_record_removes_its_seq() {
        let mut rows = ReadRows::default();
        rows.note(b"Mhead", Some(&[0u8; 40]));
        rows.note(
            &keys::event(&onrecord_core::EventId::from_bytes([1; 16])),
            None,
        );
        assert_eq!(rows.len(), 0);
        rows.note(&keys::record(7), None);
        rows.note(&keys::record(8), Some(b"not a record"));
        assert_eq!(rows.gone, vec![7, 8]);
    }
}
