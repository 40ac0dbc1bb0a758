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

-- duplicate_receipt groups the receipts by content address: an index of the
-- receipts alone is read in order instead of hashing every file row.
CREATE INDEX evidence_receipt_sha256 ON evidence (sha256) WHERE kind = 'receipt';

-- late_evidence and missing_evidence read when each session's first
-- evidence was recorded from its add_evidence events.
CREATE INDEX grant_events_add_evidence ON grant_events (grant_id) WHERE action = 'add_evidence';
