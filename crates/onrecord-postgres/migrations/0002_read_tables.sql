-- Schema version 2: the SQL read interface (docs/sql.md, ADR 0006).
-- Applied in one transaction with the version row; a ledger made at
-- version 1 then has its read tables filled from the keyspace's records by
-- the same transaction (read_tables.rs, `backfill`).
-- Never edited once released: a change is a new numbered file.
--
-- The `recorded_*` tables hold one row per record the keyspace holds,
-- decoded, written by the very statement that writes the record's key (and
-- deleted by the one that deletes it). They are onrecord's internals. The
-- documented, stable interface is the views below them: they show records
-- up to the head row only, so the staged chunks of an import that is still
-- running (or is later undone) never show.
--
-- Ids are `text COLLATE "C"`: they sort bytewise, as onrecord sorts them.

-- Microseconds since the Unix epoch as a timestamptz, exactly.
CREATE FUNCTION onrecord.micros_to_time(micros bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT timestamptz 'epoch' + micros * interval '1 microsecond' $$;

CREATE TABLE onrecord.recorded_parties (
    seq         bigint PRIMARY KEY,
    event_id    uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text,
    party       text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    speaks_for  text COLLATE "C",
    aliases     text[] NOT NULL
);
CREATE INDEX recorded_parties_party ON onrecord.recorded_parties (party);

CREATE TABLE onrecord.recorded_propositions (
    seq         bigint PRIMARY KEY,
    event_id    uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text,
    proposition text COLLATE "C" NOT NULL,
    text        text NOT NULL,
    criteria    text,
    window_from timestamptz,
    window_to   timestamptz
);
CREATE INDEX recorded_propositions_proposition ON onrecord.recorded_propositions (proposition);

CREATE TABLE onrecord.recorded_statements (
    seq               bigint PRIMARY KEY,
    event_id          uuid        NOT NULL,
    recorded_at       timestamptz NOT NULL,
    recorded_by       text,
    proposition       text COLLATE "C" NOT NULL,
    party             text COLLATE "C" NOT NULL,
    speaker           text COLLATE "C" NOT NULL,
    stance            text NOT NULL,
    credence          double precision,
    said_at           timestamptz NOT NULL,
    said_at_precision text NOT NULL,
    quote             text,
    source            text,
    qualifiers        text[] NOT NULL
);
CREATE INDEX recorded_statements_pair
    ON onrecord.recorded_statements (proposition, party, said_at, seq);
CREATE INDEX recorded_statements_event_id ON onrecord.recorded_statements (event_id);

CREATE TABLE onrecord.recorded_retractions (
    seq         bigint PRIMARY KEY,
    event_id    uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text,
    statement   uuid NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX recorded_retractions_statement ON onrecord.recorded_retractions (statement);

CREATE TABLE onrecord.recorded_resolutions (
    seq                   bigint PRIMARY KEY,
    event_id              uuid        NOT NULL,
    recorded_at           timestamptz NOT NULL,
    recorded_by           text,
    proposition           text COLLATE "C" NOT NULL,
    outcome               text NOT NULL,
    resolved_at           timestamptz NOT NULL,
    resolved_at_precision text NOT NULL,
    source                text,
    note                  text
);
CREATE INDEX recorded_resolutions_proposition ON onrecord.recorded_resolutions (proposition);

-- The documented views (docs/sql.md). Columns may be added, never renamed
-- or removed.

CREATE VIEW onrecord.parties AS
SELECT p.party, p.name, p.kind, p.speaks_for, p.aliases,
       p.seq, p.event_id, p.recorded_at, p.recorded_by
FROM onrecord.recorded_parties p
WHERE p.seq <= (SELECT h.seq FROM onrecord.head h);

CREATE VIEW onrecord.resolutions AS
SELECT r.proposition, r.outcome, r.resolved_at, r.resolved_at_precision, r.source, r.note,
       r.seq, r.event_id, r.recorded_at, r.recorded_by
FROM onrecord.recorded_resolutions r
WHERE r.seq <= (SELECT h.seq FROM onrecord.head h);

CREATE VIEW onrecord.retractions AS
SELECT r.statement, r.reason, r.seq, r.event_id, r.recorded_at, r.recorded_by
FROM onrecord.recorded_retractions r
WHERE r.seq <= (SELECT h.seq FROM onrecord.head h);

CREATE VIEW onrecord.propositions AS
SELECT p.proposition, p.text, p.criteria, p.window_from, p.window_to,
       r.outcome, r.resolved_at, r.resolved_at_precision,
       p.seq, p.event_id, p.recorded_at, p.recorded_by
FROM onrecord.recorded_propositions p
LEFT JOIN onrecord.resolutions r ON r.proposition = p.proposition
WHERE p.seq <= (SELECT h.seq FROM onrecord.head h);

CREATE VIEW onrecord.statements AS
SELECT s.seq, s.event_id, s.recorded_at, s.recorded_by,
       s.proposition, s.party, s.speaker, s.stance, s.credence,
       s.said_at, s.said_at_precision, s.quote, s.source, s.qualifiers,
       x.seq IS NOT NULL AS retracted, x.seq AS retracted_seq, x.reason AS retraction_reason
FROM onrecord.recorded_statements s
LEFT JOIN onrecord.retractions x ON x.statement = s.event_id
WHERE s.seq <= (SELECT h.seq FROM onrecord.head h);

-- A party's current position on a proposition, by the ledger's rules
-- (onrecord-projections, summary.rs): of its statements that are not
-- retracted, ordered by when each was said and then by seq, the last is
-- current; `statements` counts them; `flips` counts successive sided ones
-- (even-chance, declined and credences strictly between 0.45 and 0.55 have
-- no side) on different sides of even.
CREATE VIEW onrecord.current_positions AS
WITH counted AS (
    SELECT s.*,
           CASE
               WHEN s.stance IN ('even-chance', 'declined') OR s.credence IS NULL THEN NULL
               WHEN s.credence <= 0.45 THEN 'low'
               WHEN s.credence >= 0.55 THEN 'high'
           END AS side
    FROM onrecord.statements s
    WHERE NOT s.retracted
), ranked AS (
    SELECT c.*,
           row_number() OVER pair_latest_first AS recency,
           count(*) OVER (PARTITION BY c.proposition, c.party) AS statement_count
    FROM counted c
    WINDOW pair_latest_first AS (PARTITION BY c.proposition, c.party ORDER BY c.said_at DESC, c.seq DESC)
), sided AS (
    SELECT c.proposition, c.party, c.side,
           lag(c.side) OVER (PARTITION BY c.proposition, c.party ORDER BY c.said_at, c.seq) AS side_before
    FROM counted c
    WHERE c.side IS NOT NULL
), flipped AS (
    SELECT proposition, party, count(*) FILTER (WHERE side <> side_before) AS flips
    FROM sided
    GROUP BY proposition, party
)
SELECT r.proposition, r.party, r.stance, r.credence, r.said_at, r.said_at_precision,
       r.speaker, r.event_id AS statement, r.seq, r.quote, r.source, r.qualifiers,
       r.statement_count AS statements, coalesce(f.flips, 0) AS flips
FROM ranked r
LEFT JOIN flipped f ON f.proposition = r.proposition AND f.party = r.party
WHERE r.recency = 1;

-- Two parties whose current credences on a proposition lie on opposite
-- sides of even (one <= 0.45, the other >= 0.55), the lesser id first, as
-- `onrecord contradictions` has them (its JSON rounds `spread` to 6 places).
CREATE VIEW onrecord.contradictions AS
SELECT a.proposition, a.party AS party_a, b.party AS party_b,
       a.credence AS credence_a, b.credence AS credence_b,
       abs(a.credence - b.credence) AS spread
FROM onrecord.current_positions a
JOIN onrecord.current_positions b ON b.proposition = a.proposition AND a.party < b.party
WHERE (a.credence <= 0.45 AND b.credence >= 0.55)
   OR (a.credence >= 0.55 AND b.credence <= 0.45);

COMMENT ON VIEW onrecord.statements IS 'Every recorded statement up to the head (docs/sql.md). Stable: columns are added, never renamed or removed.';
COMMENT ON VIEW onrecord.current_positions IS 'Each party''s current position on each proposition, as `onrecord positions` (docs/sql.md).';
COMMENT ON VIEW onrecord.contradictions IS 'Current positions on opposite sides of even, as `onrecord contradictions` (docs/sql.md).';
