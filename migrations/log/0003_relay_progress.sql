-- Where each Kafka relay stands (deedlog-kafka `relay`).
-- Never edit this file once applied; add a new migration instead.
--
-- The relay stores the last position the broker acknowledged, and only
-- after the acknowledgement: a relay that restarts publishes again from
-- here, so nothing is lost and at most the unacknowledged tail is repeated
-- (consumers recognise a repeat by its position). The relay reads the log
-- as the reader role; this table is the one thing that role may write.
CREATE TABLE IF NOT EXISTS relay_progress (
    relay      text PRIMARY KEY,
    position   bigint NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON relay_progress TO deedlog_log_reader;
-- Like every log table, under row-level security: only the relay's role
-- has a policy (it holds no tenant data; the application role sees none).
ALTER TABLE relay_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY relay_progress_of_reader ON relay_progress TO deedlog_log_reader
    USING (true) WITH CHECK (true);
