-- A package still waiting in the outbox when its request is cancelled is withdrawn, not sent:
-- the outbox gains the state 'withdrawn'. SQLite cannot change a CHECK constraint in place, so
-- the table is rebuilt with the same rows (nothing refers to outbox rows).
--
-- attempt_started_at: set when the sender takes an entry, cleared when the attempt ends. While
-- it is recent the entry is on its way and can no longer be withdrawn.
CREATE TABLE outbox_rebuilt (
    id                 INTEGER PRIMARY KEY,
    channel            TEXT NOT NULL CHECK (channel IN ('email', 'fax')),
    purpose            TEXT NOT NULL DEFAULT 'answer'
                       CHECK (purpose IN ('answer', 'submission', 'confirmation', 'notice')),
    request_id         INTEGER REFERENCES requests (id),
    message_id         INTEGER REFERENCES messages (id),   -- the outgoing message row (email)
    document_id        INTEGER REFERENCES documents (id),  -- the PDF (fax)
    envelope_from      TEXT,
    recipients         TEXT NOT NULL,                      -- comma-separated addresses or fax numbers
    -- pending: to send; sent: handed over (email) or accepted by the gateway (fax, see
    -- fax_status); failed: a person must look; withdrawn: its request was cancelled first.
    state              TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sent', 'failed', 'withdrawn')),
    fax_status         TEXT,                               -- queued | sending | delivered | failed
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    last_error         TEXT,
    gateway_id         TEXT,                               -- the fax gateway's id for delivery status
    uncertain_since    TEXT,                               -- a fax submit timed out then: it may have arrived
    created_at         TEXT NOT NULL,
    sent_at            TEXT,
    step               TEXT,                               -- the due step that queued it (0003)
    attempt_started_at TEXT
);
INSERT INTO outbox_rebuilt (id, channel, purpose, request_id, message_id, document_id, envelope_from, recipients,
        state, fax_status, attempts, next_attempt_at, last_error, gateway_id, uncertain_since, created_at, sent_at,
        step)
    SELECT id, channel, purpose, request_id, message_id, document_id, envelope_from, recipients,
        state, fax_status, attempts, next_attempt_at, last_error, gateway_id, uncertain_since, created_at, sent_at,
        step
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE UNIQUE INDEX outbox_step ON outbox (step) WHERE step IS NOT NULL;
CREATE INDEX outbox_request ON outbox (request_id, purpose, state);
