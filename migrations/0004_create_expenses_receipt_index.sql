-- +goose Up
-- The duplicate_receipt flag looks up expenses by their receipt row.
CREATE INDEX expenses_receipt ON expenses (receipt_id);
