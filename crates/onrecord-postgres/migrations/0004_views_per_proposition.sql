-- Schema version 4: the same views, answered per proposition without
-- computing every proposition's first (docs/sql.md; columns unchanged).
-- Applied in one transaction with the version row. Never edited once
-- released: a change is a new numbered file.
--
-- * `statements` compares `seq + 0` with the head: the head's seq is only
--   known when the query runs, and compared bare it made the planner walk
--   the primary key over every statement rather than the
--   (proposition, party, said_at, seq) index a filter on a proposition can use.
-- * `current_positions` inlines its `counted` step (NOT MATERIALIZED), so
--   `WHERE proposition = ...` reaches the statements it reads: one
--   proposition of 60,000 statements in ~10 ms rather than ~115 ms.
-- * `contradictions` reads `current_positions` once, grouped by proposition
--   (so a filter on the proposition still reaches it), and pairs the sided
--   positions inside each group: it joined the view with itself, which the
--   planner ran as a nested loop computing the positions again for each
--   row (6.7 s for 1,000 positions).

CREATE OR REPLACE VIEW onrecord.statements AS
SELECT s.seq, s.event_id, s.recorded_at, s.recorded_by,
       s.proposition, s.party, s.speaker, s.stance, s.credence,
       s.said_at, s.said_at_precision, s.quote, s.source, s.qualifiers,
       x.seq IS NOT NULL AS retracted, x.seq AS retracted_seq, x.reason AS retraction_reason
FROM onrecord.recorded_statements s
LEFT JOIN onrecord.retractions x ON x.statement = s.event_id
WHERE s.seq + 0 <= (SELECT h.seq FROM onrecord.head h);

CREATE OR REPLACE VIEW onrecord.current_positions AS
WITH counted AS NOT MATERIALIZED (
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

CREATE OR REPLACE VIEW onrecord.contradictions AS
WITH sided AS (
    SELECT p.proposition,
           array_agg(p.party ORDER BY p.party) AS parties,
           array_agg(p.credence ORDER BY p.party) AS credences
    FROM onrecord.current_positions p
    WHERE p.credence <= 0.45 OR p.credence >= 0.55
    GROUP BY p.proposition
)
SELECT g.proposition, a.party COLLATE "C" AS party_a, b.party COLLATE "C" AS party_b,
       a.credence AS credence_a, b.credence AS credence_b,
       abs(a.credence - b.credence) AS spread
FROM sided g
CROSS JOIN LATERAL unnest(g.parties, g.credences) WITH ORDINALITY AS a(party, credence, i)
CROSS JOIN LATERAL unnest(g.parties, g.credences) WITH ORDINALITY AS b(party, credence, i)
WHERE a.i < b.i
  AND ((a.credence <= 0.45 AND b.credence >= 0.55)
    OR (a.credence >= 0.55 AND b.credence <= 0.45));
