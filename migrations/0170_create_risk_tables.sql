-- +goose Up
-- The risk ranking (issue #13) over every funded grant at once. Comparing
-- every image's perceptual hash with every other one at ranking time grows
-- with the square of the images (50 000 photos: 2.5 billion comparisons), so
-- each pair of distinct images within the reuse threshold is recorded once,
-- when the later one's facts are saved (one scan of photo_facts per new
-- image), in both directions so that a join from either side finds it. Like
-- photo_facts, keyed by content; which evidence rows (sessions, groups) the
-- bytes belong to is decided when reading.
CREATE TABLE photo_matches (
    sha256       text NOT NULL REFERENCES photo_facts (sha256),
    other_sha256 text NOT NULL REFERENCES photo_facts (sha256),
    distance     int  NOT NULL CHECK (distance BETWEEN 0 AND 64),
    PRIMARY KEY (sha256, other_sha256),
    CHECK (sha256 <> other_sha256)
);
-- The facts recorded before this table: their pairs, at the threshold the
-- code uses (evidence.PhotoReuseDistance = 10 bits).
INSERT INTO photo_matches (sha256, other_sha256, distance)
SELECT a.sha256, b.sha256, bit_count(CAST(a.phash # b.phash AS bit(64)))
FROM photo_facts a JOIN photo_facts b ON a.sha256 <> b.sha256
WHERE bit_count(CAST(a.phash # b.phash AS bit(64))) <= 10;

-- The ranking reads each grant's standing expenses whole: a narrow partial
-- index holding every column it needs lets it read them without the wide
-- rows (vendor, description, hashes), and finds a grant's last day of
-- spending by one descent.
CREATE INDEX expenses_risk ON expenses (grant_id, spent_on)
    INCLUDE (id, budget_line_id, activity_id, amount, receipt_id) WHERE voided_at IS NULL;

-- duplicate_receipt and identical photos: the content addresses stored more
-- than once, recorded by a trigger when the second evidence row of the same
-- bytes is written (one probe of the sha256 index), so the ranking starts
-- from the few shared files instead of grouping every file ever uploaded.
-- Which rows share it (receipts of expenses still standing, photos of other
-- sessions) is decided when reading.
CREATE TABLE evidence_shared (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$')
);
-- +goose StatementBegin
CREATE FUNCTION evidence_note_shared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Two rows of the same file written at once by two transactions would
    -- each miss the other: they take turns per file, and the check (a new
    -- snapshot under READ COMMITTED) sees the one committed first.
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.sha256, 0));
    IF EXISTS (SELECT 1 FROM evidence v WHERE v.sha256 = NEW.sha256 AND v.id <> NEW.id) THEN
        INSERT INTO evidence_shared (sha256) VALUES (NEW.sha256) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER evidence_shared AFTER INSERT ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_note_shared();
INSERT INTO evidence_shared (sha256) SELECT sha256 FROM evidence GROUP BY sha256 HAVING count(*) > 1;

-- no_session: a grant's standing expenses that name no session, read by
-- index for the budget lines of session categories that have any.
CREATE INDEX expenses_unassigned ON expenses (grant_id, budget_line_id) INCLUDE (id)
    WHERE activity_id IS NULL AND voided_at IS NULL;

-- late_evidence and missing_evidence read when each session's first
-- evidence was recorded from its add_evidence events.
CREATE INDEX grant_events_add_evidence ON grant_events (grant_id) WHERE action = 'add_evidence';
