-- +goose Up
-- An NTPN identifies one deposit to the state treasury: recording it twice,
-- on any grant, is a double entry.
CREATE UNIQUE INDEX refunds_ntpn ON refunds (ntpn);
