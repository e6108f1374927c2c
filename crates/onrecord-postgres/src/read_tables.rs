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
use tokio_postgres::{Client, GenericClient, Transaction};

/// One read table: its name and its own columns, each as a JSON row names
/// it with the type `jsonb_to_recordset` reads it as (`time`: microseconds
/// since the epoch in the row, turned into `timestamptz` exactly). The
/// writes and `verify` are both made from these, so they cannot drift.
struct ReadTable {
    /// The table, in schema `onrecord`.
    name: &'static str,
    /// `(name, type)` of each column after the common ones, in the table's order.
    json_columns: &'static [(&'static str, &'static str)],
}

/// The five read tables, in the order of the statement's parameters `$8`..`$12`.
const READ_TABLES: [ReadTable; 5] = [
    ReadTable {
        name: "recorded_parties",
        json_columns: &[
            ("party", "text"),
            ("name", "text"),
            ("kind", "text"),
            ("speaks_for", "text"),
            ("aliases", "text[]"),
        ],
    },
    ReadTable {
        name: "recorded_propositions",
        json_columns: &[
            ("proposition", "text"),
            ("text", "text"),
            ("criteria", "text"),
            ("window_from", "time"),
            ("window_to", "time"),
        ],
    },
    ReadTable {
        name: "recorded_statements",
        json_columns: &[
            ("proposition", "text"),
            ("party", "text"),
            ("speaker", "text"),
            ("stance", "text"),
            ("credence", "double precision"),
            ("said_at", "time"),
            ("said_at_precision", "text"),
            ("quote", "text"),
            ("source", "text"),
            ("qualifiers", "text[]"),
        ],
    },
    ReadTable {
        name: "recorded_retractions",
        json_columns: &[("statement", "uuid"), ("reason", "text")],
    },
    ReadTable {
        name: "recorded_resolutions",
        json_columns: &[
            ("proposition", "text"),
            ("outcome", "text"),
            ("resolved_at", "time"),
            ("resolved_at_precision", "text"),
            ("source", "text"),
            ("note", "text"),
        ],
    },
];

/// The columns every read table starts with.
const COMMON_COLUMNS: [(&str, &str); 4] = [
    ("seq", "bigint"),
    ("event_id", "uuid"),
    ("recorded_at", "time"),
    ("recorded_by", "text"),
];

impl ReadTable {
    fn columns(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        COMMON_COLUMNS.iter().chain(self.json_columns).copied()
    }

    /// `seq, event_id, ...`: the table's columns.
    fn column_list(&self) -> String {
        self.columns()
            .map(|(c, _)| c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The rows of the JSON array `param`, as the table holds them.
    fn values_from(&self, param: &str) -> String {
        let values: Vec<String> = self
            .columns()
            .map(|(c, t)| match t {
                "time" => format!("onrecord.micros_to_time(r.{c})"),
                _ => format!("r.{c}"),
            })
            .collect();
        let record: Vec<String> = self
            .columns()
            .map(|(c, t)| format!("{c} {}", if t == "time" { "bigint" } else { t }))
            .collect();
        format!(
            "SELECT {} FROM jsonb_to_recordset({param}::text::jsonb) AS r({})",
            values.join(", "),
            record.join(", ")
        )
    }
}

/// The common-table expressions that write a write set's read rows: deletes
/// by seq (`$7`, records deleted or no longer decodable; joined with the
/// unnested array, so that a plan made once for any parameters looks each
/// seq up by index rather than scanning the table), then one upsert per
/// table from a JSON array of rows (`$8` parties, `$9` propositions, `$10`
/// statements, `$11` retractions, `$12` resolutions), each writing only when
/// the SQL condition `when` holds (`true`; or the head check of a
/// conditional commit, so that a write set built on a moved head writes no
/// row).
pub(crate) fn write_rows_ctes(when: &str) -> String {
    let mut ctes = Vec::new();
    for table in &READ_TABLES {
        ctes.push(format!(
            "gone_{0} AS (DELETE FROM onrecord.{0} t USING unnest($7::bigint[]) AS g(seq)
    WHERE t.seq = g.seq AND {when})",
            table.name
        ));
    }
    for (i, table) in READ_TABLES.iter().enumerate() {
        let updates: Vec<String> = table
            .columns()
            .skip(1)
            .map(|(c, _)| format!("{c} = EXCLUDED.{c}"))
            .collect();
        ctes.push(format!(
            "new_{0} AS (
    INSERT INTO onrecord.{0} ({1})
    {2}
    WHERE {when}
    ON CONFLICT (seq) DO UPDATE SET {3}
)",
            table.name,
            table.column_list(),
            table.values_from(&format!("${}", 8 + i)),
            updates.join(", ")
        ));
    }
    ctes.join(",\n")
}

/// The query [`verify`] runs for one page of records: `$1`..`$5` the rows
/// their records make (as the writes take them), `$6`..`$7` the page's
/// first and last seq. It answers the first seq of the page whose rows
/// differ from the tables' in any column (a row missing, extra or changed),
/// with its table; no row when they agree.
fn verify_page_sql() -> String {
    let mut differences = Vec::new();
    for (i, table) in READ_TABLES.iter().enumerate() {
        let expected = table.values_from(&format!("${}", 1 + i));
        let actual = format!(
            "SELECT {} FROM onrecord.{} WHERE seq BETWEEN $6 AND $7",
            table.column_list(),
            table.name
        );
        differences.push(format!(
            "SELECT '{0}'::text AS t, d.seq FROM (({expected} EXCEPT ALL {actual})
        UNION ALL ({actual} EXCEPT ALL {expected})) AS d",
            table.name
        ));
    }
    format!(
        "SELECT t, seq FROM ({}) AS x ORDER BY seq, t LIMIT 1",
        differences.join("\n    UNION ALL ")
    )
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

/// How many records `verify` decodes and compares per query.
const VERIFY_PAGE: i32 = 1_000;

/// Checks the read tables against the records up to `head`, in one
/// snapshot, a page of records at a time (memory: one page): the first seq
/// whose rows differ from what its record makes, with the table, or a row
/// past the snapshot's committed head.
pub(crate) async fn verify(
    client: &mut Client,
    head: u64,
) -> Result<Option<(u64, String)>, tokio_postgres::Error> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let select = tx
        .prepare(
            "SELECT key, value FROM onrecord.keyspace WHERE key >= $1 AND key <= $2 ORDER BY key",
        )
        .await?;
    let check = tx.prepare(&verify_page_sql()).await?;
    let (first, last) = (keys::record(1).to_vec(), keys::record(head).to_vec());
    let portal = tx.bind(&select, &[&first, &last]).await?;
    let seq_of = |s: i64| u64::try_from(s).unwrap_or(0);
    if head > 0 {
        loop {
            let page = tx.query_portal(&portal, VERIFY_PAGE).await?;
            let mut rows = ReadRows::default();
            let (mut low, mut high) = (i64::MAX, 0i64);
            for row in &page {
                let (key, value): (Vec<u8>, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
                if let Some(seq) = keys::record_seq(&key).and_then(|s| i64::try_from(s).ok()) {
                    (low, high) = (low.min(seq), high.max(seq));
                }
                rows.note(&key, Some(&value));
            }
            if high > 0 {
                let read = rows.parameters();
                let mut params: Vec<&(dyn ToSql + Sync)> = read.as_params()[1..].to_vec();
                params.extend([&low as &(dyn ToSql + Sync), &high]);
                if let Some(row) = tx.query_opt(&check, &params).await? {
                    let (table, seq): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
                    return Ok(Some((seq_of(seq), table)));
                }
            }
            if page.len() < VERIFY_PAGE as usize {
                break;
            }
        }
    }
    let beyond: Vec<String> = READ_TABLES
        .iter()
        .map(|t| {
            format!(
                "SELECT '{0}'::text AS t, min(seq) AS seq FROM onrecord.{0}
                 WHERE seq > (SELECT seq FROM onrecord.head)",
                t.name
            )
        })
        .collect();
    let past = tx
        .query_opt(
            &format!(
                "SELECT t, seq FROM ({}) AS x WHERE seq IS NOT NULL ORDER BY seq LIMIT 1",
                beyond.join(" UNION ALL ")
            ),
            &[],
        )
        .await?;
    tx.commit().await?;
    match past {
        Some(row) => {
            let (table, seq): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            Ok(Some((seq_of(seq), table)))
        }
        None => Ok(None),
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
