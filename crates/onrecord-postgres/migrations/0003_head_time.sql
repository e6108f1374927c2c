-- Schema version 3: the transaction time of the head's record, beside the
-- head (ADR 0005, "The head-row sequencer"). Microseconds since the Unix
-- epoch, as records hold it; written by every commit that moves the head.
-- NULL until the first such commit after this migration (the records hold
-- it anyway). Touches only onrecord.head, so it is independent of
-- migration 0002 (the SQL read tables) and applies whether or not 0002
-- ran first. Never edited once released.

ALTER TABLE onrecord.head ADD COLUMN last_recorded_at bigint;

COMMENT ON COLUMN onrecord.head.last_recorded_at IS
    'Transaction time of the record at seq, in microseconds since the Unix epoch (NULL: not yet written since schema version 3).';
