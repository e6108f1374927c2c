//! The database schema: the migrations kept in this crate's `migrations/`
//! (embedded at build time), how a database is recognised as an onrecord
//! ledger ([`inspect`]), and how it is brought to [`SCHEMA_VERSION`] in one
//! transaction ([`migrate`]). Only DDL and the version table live here; the
//! keyspace's contents are the engine's, and the read tables' rows are
//! `read_tables.rs`'s (which fills them when migrating to version 2).

use tokio_postgres::Client;

/// The newest schema version this build knows (the highest migration).
pub const SCHEMA_VERSION: u32 = 4;

/// Every migration, in order: its version and its SQL. A released migration
/// is never edited; a change is a new file and a new row here.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/0001_keyspace.sql")),
    (2, include_str!("../migrations/0002_read_tables.sql")),
    (3, include_str!("../migrations/0003_head_time.sql")),
    (
        4,
        include_str!("../migrations/0004_views_per_proposition.sql"),
    ),
];

/// The version whose migration made the read tables: migrating past it
/// fills them from the records already in the keyspace.
const READ_TABLES_VERSION: u32 = 2;

/// What a database holds, as far as onrecord is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaState {
    /// No `onrecord` schema: no ledger (yet).
    Absent,
    /// An `onrecord` schema that is not one onrecord made (tables missing, no version).
    Foreign,
    /// An onrecord ledger at this schema version.
    At(u32),
}

/// Recognises the database `client` is connected to, reading only the
/// catalog and the version table; writes nothing.
pub(crate) async fn inspect(client: &Client) -> Result<SchemaState, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT to_regnamespace('onrecord') IS NOT NULL,
                    to_regclass('onrecord.schema_version') IS NOT NULL
                    AND to_regclass('onrecord.keyspace') IS NOT NULL
                    AND to_regclass('onrecord.head') IS NOT NULL",
            &[],
        )
        .await?;
    let (schema, tables): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
    if !schema {
        return Ok(SchemaState::Absent);
    }
    if !tables {
        return Ok(SchemaState::Foreign);
    }
    let version: Option<i32> = client
        .query_one("SELECT max(version) FROM onrecord.schema_version", &[])
        .await?
        .try_get(0)?;
    Ok(match version.and_then(|v| u32::try_from(v).ok()) {
        Some(v) if v > 0 => SchemaState::At(v),
        _ => SchemaState::Foreign,
    })
}

/// Applies every migration past `from`, with their version rows, in one
/// transaction: the database ends at [`SCHEMA_VERSION`] or is left as it was.
/// Migrating past [`READ_TABLES_VERSION`] also fills the read tables from the
/// keyspace's records, in the same transaction.
pub(crate) async fn migrate(client: &mut Client, from: u32) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > from) {
        tx.batch_execute(sql).await?;
        if *version == READ_TABLES_VERSION {
            crate::read_tables::backfill(&tx).await?;
        }
        let version = i32::try_from(*version).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO onrecord.schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps_up_to_the_schema_version() {
        let versions: Vec<u32> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let expected: Vec<u32> = (1..=SCHEMA_VERSION).collect();
        assert_eq!(versions, expected);
    }
}
