-- The audit queries (deedlog-read-model `audit::reconciliation_runs`) show
-- auditors the reconciliation runs through the application role. Runs are
-- global, not per tenant, and a run's `report` holds the keys and values of
-- differing rows of every tenant (and `error` may quote them), so
-- `deedlog_app` may read only the summary columns: no `report`, no `error`.
-- A column-limited grant, not a view, so the table stays the one thing
-- `docs/read-models.md` documents; `SELECT *` as `deedlog_app` is refused.
-- Never edit this file once applied; add a new migration instead.
GRANT USAGE ON SCHEMA deedlog_read TO deedlog_app;
GRANT SELECT (id, projection, position, started_at, finished_at, status,
              missing_rows, extra_rows, differing_rows)
    ON reconciliation_runs TO deedlog_app;
-- Every run is visible to every tenant's auditors: the summary names no tenant.
CREATE POLICY reconciliation_runs_of_app ON reconciliation_runs FOR SELECT TO deedlog_app USING (true);
