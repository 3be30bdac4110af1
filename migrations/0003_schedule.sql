-- Follow-ups, reminders and digests on schedule.

-- When the request entered its current state, and when its follow-up clock started: the
-- submission, or the moment it was released from a hold or a deficiency (a fresh clock).
ALTER TABLE requests ADD COLUMN state_since TEXT;
ALTER TABLE requests ADD COLUMN follow_up_from TEXT;
UPDATE requests SET state_since = updated_at, follow_up_from = submitted_at;

-- Every state change keeps both in step, whichever code path makes it.
CREATE TRIGGER requests_state_since AFTER UPDATE OF state ON requests WHEN NEW.state IS NOT OLD.state
BEGIN
    UPDATE requests SET
        state_since = NEW.updated_at,
        follow_up_from = CASE
            WHEN OLD.state IN ('on_hold', 'deficient') AND NEW.state IN ('submitted', 'acknowledged', 'partial')
                THEN NEW.updated_at
            WHEN NEW.state = 'submitted' AND NEW.submitted_at IS NOT NULL THEN NEW.submitted_at
            ELSE follow_up_from
        END
    WHERE id = NEW.id;
END;
-- Requests changed since the scheduler last looked.
CREATE INDEX requests_updated ON requests (updated_at);

-- A due step is named by its key (kind, clock start, number; or digest, date, staff address):
-- it is done once, whatever restarts or repeated sweeps happen.
ALTER TABLE due ADD COLUMN key TEXT;
CREATE UNIQUE INDEX due_key ON due (key);
CREATE INDEX due_request ON due (request_id, done_at);
-- Planned digests by staff address (every sweep drops those of people no longer on staff).
CREATE INDEX due_open_digest ON due (detail) WHERE kind = 'digest' AND done_at IS NULL;

-- The outbox entries a due step queued carry its key with channel and recipient, unique.
ALTER TABLE outbox ADD COLUMN step TEXT;
CREATE UNIQUE INDEX outbox_step ON outbox (step) WHERE step IS NOT NULL;

-- Where the scheduler got to (the last `updated_at` it planned from).
CREATE TABLE schedule_marks (
    name TEXT PRIMARY KEY,
    at   TEXT NOT NULL
);
