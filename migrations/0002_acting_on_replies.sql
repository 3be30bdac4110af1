-- Acting on replies: what a request waits for, how it is sent next, and invoice checks.

-- The date an acknowledgment promised the records by; follow-ups wait until after it.
ALTER TABLE requests ADD COLUMN eta TEXT;
-- The channel the next package goes by when it differs from the provider's preference
-- ('fax' after a bounced email, 'email' after a failed fax); cleared when the package is queued.
ALTER TABLE requests ADD COLUMN next_channel TEXT CHECK (next_channel IN ('fax', 'email'));

-- The statute check made when the invoice arrived, in words for staff.
ALTER TABLE invoices ADD COLUMN fee_check TEXT;
-- Whether the fee check found a likely overcharge.
ALTER TABLE invoices ADD COLUMN overcharge INTEGER NOT NULL DEFAULT 0;
CREATE INDEX invoices_request ON invoices (request_id, state);

-- Outgoing messages carry what they are in `kind` ('approval', 'billing', 'deficiency', …), so a
-- reply to an approval request can be recognised as one.
CREATE INDEX messages_out_kind ON messages (request_id, kind) WHERE direction = 'out';
CREATE INDEX request_events_kind ON request_events (request_id, kind);
