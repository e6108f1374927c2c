#!/usr/bin/env python3
"""Imports an onrecord JSON Lines file into SQLite the way a user without onrecord would.

The baseline of tools/onrecord-bench's `cli-vs-sqlite` (docs/benchmarks.md):
WAL, synchronous=FULL, the whole file in one transaction (all or nothing),
json.loads per line; an events table (statement columns indexed by pair, to
find a pair's latest statement after a retraction), a stream index and a
positions table kept per statement. Usage: sqlite-import.py DB FILE.jsonl
"""
import json, sqlite3, sys
from datetime import datetime, timezone

MIDPOINT = {"almost-no-chance": 0.03, "very-unlikely": 0.125, "unlikely": 0.325, "even-chance": 0.5,
            "likely": 0.675, "very-likely": 0.875, "almost-certain": 0.97, "declined": None}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

def micros(t):  # a day counts from its start, UTC (onrecord's rule)
    d = datetime.fromisoformat(t if "T" in t else t + "T00:00:00+00:00")
    return (d - EPOCH) // datetime.resolution

db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.executescript("""
CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE, type TEXT NOT NULL,
  proposition TEXT, party TEXT, said_at INTEGER, credence REAL, retracted INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_pair ON events(proposition, party, said_at, seq) WHERE type = 'statement';
CREATE TABLE IF NOT EXISTS streams(stream TEXT, revision INTEGER, seq INTEGER NOT NULL,
  PRIMARY KEY (stream, revision)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions(proposition TEXT, party TEXT, seq INTEGER NOT NULL, said_at INTEGER NOT NULL,
  credence REAL, statements INTEGER NOT NULL, PRIMARY KEY (proposition, party)) WITHOUT ROWID;""")
db.execute("BEGIN")
seq = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
heads = dict(db.execute("SELECT stream, max(revision) + 1 FROM streams GROUP BY stream"))
speaks = dict(db.execute("SELECT json_extract(json, '$.id'), json_extract(json, '$.speaks_for') FROM events "
                         "WHERE type = 'party'"))
with open(sys.argv[2], encoding="utf-8") as lines:
    for line in lines:
        if not line.strip():
            continue
        e, seq = json.loads(line), seq + 1
        t, prop, party, said, credence = e["type"], e.get("proposition"), None, None, None
        if t == "party":
            speaks[e["id"]], streams = e.get("speaks_for"), ["party/" + e["id"]]
        elif t == "proposition":
            streams = ["proposition/" + e["id"]]
        elif t == "statement":
            party = e.get("party") or speaks.get(e.get("speaker")) or e["speaker"]
            said, credence = micros(e["said_at"]), e.get("credence")
            credence = MIDPOINT[e["stance"]] if credence is None else credence
            streams = ["proposition/" + prop, "party/" + party]
        elif t == "retraction":
            old, prop, party = db.execute("SELECT seq, proposition, party FROM events WHERE event_id = ?",
                                          (e["statement"],)).fetchone()
            db.execute("UPDATE events SET retracted = 1 WHERE seq = ?", (old,))
            streams = ["proposition/" + prop, "party/" + party]
        else:
            streams = ["proposition/" + prop]
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                   (seq, e.get("event_id"), t, prop, party, said, credence, line.rstrip("\r\n")))
        for s in streams:
            heads[s] = heads.get(s, 0) + 1
            db.execute("INSERT INTO streams VALUES (?, ?, ?)", (s, heads[s] - 1, seq))
        if t == "statement":  # the latest said is the position (ties: the later recorded)
            db.execute("""INSERT INTO positions VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET
              statements = statements + 1, seq = CASE WHEN excluded.said_at >= said_at THEN excluded.seq ELSE seq END,
              credence = CASE WHEN excluded.said_at >= said_at THEN excluded.credence ELSE credence END,
              said_at = max(said_at, excluded.said_at)""", (prop, party, seq, said, credence))
        elif t == "retraction":  # the pair's latest statement still standing takes over, if any
            db.execute("DELETE FROM positions WHERE proposition = ? AND party = ? AND statements = 1", (prop, party))
            db.execute("""UPDATE positions SET statements = statements - 1, (seq, said_at, credence) = (
              SELECT seq, said_at, credence FROM events WHERE type = 'statement' AND proposition = ?1
              AND party = ?2 AND retracted = 0 ORDER BY said_at DESC, seq DESC LIMIT 1)
              WHERE proposition = ?1 AND party = ?2""", (prop, party))
db.execute("COMMIT")
print(f"imported {seq} events")
