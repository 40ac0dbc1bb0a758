-- +goose Up
-- Failed-login counters shared by every server instance. One row per key:
-- (account, address) for the pair, (account, '') for the account alone and
-- ('', address) for the address alone. failures holds the times of the
-- newest failures within the window, oldest first (at most the limit of its
-- kind, so a row stays small); updated_at is when the last was added, for
-- sweeping rows whose failures have all expired.
CREATE TABLE login_throttle (
    account    text NOT NULL CHECK (length(account) <= 400),
    address    text NOT NULL CHECK (length(address) <= 400),
    failures   timestamptz[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, address),
    CHECK (account <> '' OR address <> ''),
    CHECK (cardinality(failures) <= 100)
);
CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);
