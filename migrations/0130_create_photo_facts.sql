-- +goose Up
-- What the camera and the pixels say about each stored image (issue #13):
-- computed by the background worker from the original upload, before the
-- EXIF-free preview, and kept for staff. Keyed by the content address, like
-- the store, so every evidence row of the same bytes shares one row; rows are
-- facts of immutable bytes and are never updated.
CREATE TABLE photo_facts (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- the 64-bit DCT perceptual hash as a signed bigint (the same bits)
    phash       bigint NOT NULL,
    taken_at    timestamptz,
    -- false when the camera gave no UTC offset and WIB was assumed
    taken_zoned boolean NOT NULL DEFAULT false,
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    computed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
