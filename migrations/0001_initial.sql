-- The whole request lifecycle of DESIGN.md. Later versions fill tables that are empty today.
-- Times are UTC, RFC 3339 text. Booleans are 0/1.

-- The "Master Medical Provider List".
CREATE TABLE providers (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    department       TEXT,
    street           TEXT,
    city             TEXT,
    state            TEXT,
    zip              TEXT,
    phone            TEXT,
    fax              TEXT,              -- E.164
    email            TEXT,
    preferred_method TEXT NOT NULL DEFAULT 'fax'
                     CHECK (preferred_method IN ('fax', 'email', 'mail', 'portal')),
    notes            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX providers_name ON providers (name COLLATE NOCASE);
-- One entry per facility and city: re-importing the list updates instead of duplicating.
CREATE UNIQUE INDEX providers_key ON providers (lower(name), lower(coalesce(city, '')));
CREATE INDEX providers_fax ON providers (fax);

-- One records request; its reference is 'MR-' || id.
CREATE TABLE requests (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    state                 TEXT NOT NULL CHECK (state IN (
                              'preparing', 'submitting', 'submitted', 'acknowledged', 'on_hold', 'deficient',
                              'partial', 'received', 'no_records', 'cancelled', 'failed')),
    owner                 TEXT NOT NULL,    -- staff address
    attorney              TEXT,
    provider_id           INTEGER NOT NULL REFERENCES providers (id),
    patient_name          TEXT NOT NULL,
    patient_address       TEXT NOT NULL,
    patient_dob           TEXT NOT NULL,
    patient_ssn           TEXT NOT NULL,
    date_of_loss          TEXT,
    still_treating        INTEGER NOT NULL DEFAULT 0,
    rush                  INTEGER NOT NULL DEFAULT 0,
    notes                 TEXT,
    authorization_expires TEXT,
    channel               TEXT CHECK (channel IN ('fax', 'email', 'mail', 'portal')),
    submitted_at          TEXT,
    closed_at             TEXT,
    close_reason          TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX requests_state ON requests (state);
CREATE INDEX requests_owner ON requests (owner);
-- References start at MR-1001.
INSERT INTO sqlite_sequence (name, seq) VALUES ('requests', 1000);

-- What a request asks for, per record type, and what has arrived.
CREATE TABLE request_record_types (
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    record_type TEXT NOT NULL CHECK (record_type IN ('medical', 'billing', 'radiology')),
    from_date   TEXT,
    to_date     TEXT,                       -- NULL: to present
    status      TEXT NOT NULL DEFAULT 'requested'
                CHECK (status IN ('requested', 'received', 'awaiting_media')),
    PRIMARY KEY (request_id, record_type)
);

-- Every message in and out. Inbound messages are recognised again by their place in a mailbox
-- and by Message-ID (or, lacking one, by the hash of their bytes).
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    mailbox      TEXT,                      -- 'imap:user@host/INBOX' or 'maildir:/path'
    uidvalidity  INTEGER,
    uid          INTEGER,
    message_id   TEXT,
    sha256       TEXT NOT NULL,
    from_addr    TEXT,
    to_addrs     TEXT,
    subject      TEXT,
    in_reply_to  TEXT,
    request_id   INTEGER REFERENCES requests (id),
    status       TEXT NOT NULL,             -- in: answered | stored (+ reason); out: queued
    status_note  TEXT,
    kind         TEXT,                      -- classification: records, invoice, deficiency, …
    regarding    INTEGER REFERENCES messages (id),  -- out: the inbound message a triage notice is about
    raw          BLOB NOT NULL,
    at           TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_place ON messages (mailbox, uidvalidity, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX messages_in_id ON messages (message_id) WHERE direction = 'in' AND message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_in_hash ON messages (sha256) WHERE direction = 'in' AND message_id IS NULL;
CREATE UNIQUE INDEX messages_out_id ON messages (message_id) WHERE direction = 'out';
CREATE INDEX messages_request ON messages (request_id);

-- Files: authorizations, packages, records, invoices, letters. Bytes live under the documents
-- directory; the database keeps where and what.
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    request_id   INTEGER REFERENCES requests (id),
    message_id   INTEGER REFERENCES messages (id),
    kind         TEXT NOT NULL CHECK (kind IN (
                     'authorization', 'package', 'certification', 'records', 'invoice',
                     'letter', 'other')),
    filename     TEXT NOT NULL,
    path         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX documents_request ON documents (request_id);

-- The append-only activity log of a request ("document all calls").
CREATE TABLE request_events (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,               -- staff address, 'provider' or 'medrec'
    detail     TEXT NOT NULL,
    message_id INTEGER REFERENCES messages (id)
);
CREATE INDEX request_events_request ON request_events (request_id, at);
CREATE TRIGGER request_events_append_only_update BEFORE UPDATE ON request_events
BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;
CREATE TRIGGER request_events_append_only_delete BEFORE DELETE ON request_events
BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;

-- Effects waiting to leave: written in the same transaction as the change that causes them,
-- sent and retried by the daemon.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'fax')),
    purpose         TEXT NOT NULL DEFAULT 'answer'
                    CHECK (purpose IN ('answer', 'submission', 'confirmation', 'notice')),
    request_id      INTEGER REFERENCES requests (id),
    message_id      INTEGER REFERENCES messages (id),   -- the outgoing message row (email)
    document_id     INTEGER REFERENCES documents (id),  -- the PDF (fax)
    envelope_from   TEXT,
    recipients      TEXT NOT NULL,                      -- comma-separated addresses or fax numbers
    -- pending: to send; sent: handed over (email) or accepted by the gateway (fax, see
    -- fax_status); failed: a person must look.
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    fax_status      TEXT,                               -- queued | sending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    gateway_id      TEXT,                               -- the fax gateway's id for delivery status
    uncertain_since TEXT,                               -- a fax submit timed out then: it may have arrived
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- What is due when: follow-ups, reminders, escalations, digests. The scheduler reads it.
CREATE TABLE due (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER REFERENCES requests (id),
    kind       TEXT NOT NULL CHECK (kind IN (
                   'follow_up', 'records_due', 'escalation', 'approval_reminder',
                   'deficiency_reminder', 'update_reminder', 'digest')),
    due_at     TEXT NOT NULL,
    done_at    TEXT,
    detail     TEXT
);
CREATE INDEX due_open ON due (due_at) WHERE done_at IS NULL;

-- Invoices read from replies, and their approval.
CREATE TABLE invoices (
    id           INTEGER PRIMARY KEY,
    request_id   INTEGER NOT NULL REFERENCES requests (id),
    message_id   INTEGER REFERENCES messages (id),
    amount_cents INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending_approval', 'approved', 'declined', 'superseded')),
    decided_by   TEXT,
    decided_at   TEXT,
    reason       TEXT,
    created_at   TEXT NOT NULL
);

-- Per mailbox: the UIDVALIDITY last seen and when it was last read.
CREATE TABLE inbox_state (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity INTEGER,
    last_poll   TEXT
);
