-- Schema version 1: the engine's ordered keyspace (ADR 0004, ADR 0005).
-- Applied by `onrecord init` in one transaction with the version row.
-- Never edited once released: a change is a new numbered file.

CREATE SCHEMA onrecord;

COMMENT ON SCHEMA onrecord IS 'An onrecord ledger (docs/postgres.md). Written only by onrecord.';

-- Which migrations this database has had: the highest version is its schema.
CREATE TABLE onrecord.schema_version (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- The engine's keyspace, byte for byte as on every backend: records (R),
-- indexes, kept views, markers (M), the import journal (U), tokens (A).
-- bytea compares bytewise, so key order is the engine's order.
CREATE TABLE onrecord.keyspace (
    key   bytea PRIMARY KEY,
    value bytea NOT NULL
);

-- The head, outside the keyspace: one row, written in the same transaction
-- as the keyspace's `M head`. It is what the backend checks on open (as sled
-- checks its anchor file) and the row a future multi-writer append locks
-- (ADR 0005).
CREATE TABLE onrecord.head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL CHECK (seq >= 0),
    hash      bytea   NOT NULL CHECK (length(hash) = 32)
);

INSERT INTO onrecord.head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));
