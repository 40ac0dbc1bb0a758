-- +goose Up
-- What the risk ranking (issue #13) keeps between rankings: per grant and
-- budget line, the aggregates of its standing expenses that every ranking
-- otherwise recomputed in one pass over every expense (three million rows
-- at 10 000 grants of 300 expenses: two seconds of the ranking's two). They
-- depend on the grant's expenses alone: recording one or voiding one is the
-- only way they change (the rows are append-only, 0120). A derived cache,
-- not a second record of money: every figure can be recomputed from
-- expenses (postgres.RiskScratchQuery does, and the tests compare), and a
-- grant that is marked, or has no row here, is read from its expenses by
-- the ranking itself.
CREATE TABLE risk_facts (
    grant_id   bigint PRIMARY KEY,
    -- The round-receipt definition the line facts' round_n counted with
    -- (workflow.RoundAmountUnit, RoundAmountMin): another one makes the row stale.
    round_unit bigint NOT NULL,
    round_min  bigint NOT NULL
);
CREATE TABLE risk_line_facts (
    grant_id       bigint NOT NULL,
    budget_line_id bigint NOT NULL,
    spent          bigint NOT NULL,  -- sum of the standing expenses' amounts
    n              bigint NOT NULL,  -- how many
    round_n        bigint NOT NULL,  -- how many of round sums
    first_on       date   NOT NULL,
    last_on        date   NOT NULL,
    unassigned     bigint NOT NULL,  -- how many name no session
    -- risk_facts' round_unit and round_min, written with them: the ranking
    -- filters the lines by value, without a join whose plan would rest on
    -- statistics a table filled a moment ago does not have yet.
    round_unit     bigint NOT NULL,
    round_min      bigint NOT NULL,
    PRIMARY KEY (grant_id, budget_line_id)
);

-- Grants whose expenses changed since a ranking last refreshed their facts:
-- filled by the triggers below in the recording transaction itself (one
-- row per grant and statement, from the statement's transition table),
-- emptied by the refresh (DELETE … RETURNING, so a mark committed while a
-- refresh runs stays for the next one). Without a key: a duplicate mark
-- costs nothing.
CREATE TABLE risk_dirty (
    grant_id  bigint NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION risk_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO risk_dirty (grant_id) SELECT DISTINCT grant_id FROM changed;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- A recorded expense and a void (the only UPDATE 0120 lets through);
-- DELETE is refused there. A trigger with a transition table names one event.
CREATE TRIGGER expenses_risk_insert AFTER INSERT ON expenses
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION risk_mark_dirty();
CREATE TRIGGER expenses_risk_update AFTER UPDATE ON expenses
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION risk_mark_dirty();
