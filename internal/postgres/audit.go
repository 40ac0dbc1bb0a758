package postgres

import (
	"context"
	"database/sql"
	"time"

	"grantflow/workflow"
)

// reportConfirmedExpr is workflow.Grant.ReportConfirmed of the grant g: a
// chair's confirm_report event after which no expense was recorded or
// voided, no activity evidence added and no session realised, corrected or
// cancelled. Derived from the append-only rows, so a change withdraws the
// confirmation without anyone having to remember to. Event ids grow with a
// grant's seq (events are appended under the grant's lock), so ids order them.
const reportConfirmedExpr = `EXISTS (SELECT 1 FROM grant_events c WHERE c.grant_id = g.id AND c.action = 'confirm_report'
		AND NOT EXISTS (SELECT 1 FROM grant_events x WHERE x.grant_id = g.id AND x.id > c.id
			AND x.action IN ('record_expense', 'void_expense', 'add_evidence'))
		AND NOT EXISTS (SELECT 1 FROM activity_realizations r WHERE r.grant_id = g.id AND r.event_id > c.id)
		AND NOT EXISTS (SELECT 1 FROM activity_cancellations k WHERE k.grant_id = g.id AND k.event_id > c.id))`

// PhotoFacts is one photo_facts row: what the pixels and the camera say
// about a stored image, read from the original upload.
type PhotoFacts struct {
	SHA256     string
	PHash      uint64
	TakenAt    time.Time // zero when the photo carries no capture time
	TakenZoned bool
	HasGPS     bool
	Latitude   float64
	Longitude  float64
}

// photoMatchLock is the advisory lock key under which photo facts and
// their matches are saved ("photomat"): two images saved at once would
// otherwise each miss the other, each statement seeing only committed facts.
const photoMatchLock = 0x70686f746f6d6174

// SavePhotoFacts records the facts of a stored image once; facts already
// recorded for the same bytes are kept (they are facts of immutable content).
// A new image's pairs with every recorded image within maxBits bits of its
// perceptual hash are recorded with it in photo_matches (both directions),
// so the risk ranking joins them instead of comparing every pair.
func (tx *Tx) SavePhotoFacts(ctx context.Context, f PhotoFacts, maxBits int) error {
	const query = `WITH f AS (INSERT INTO photo_facts (sha256, phash, taken_at, taken_zoned, latitude, longitude)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING RETURNING sha256, phash),
		m AS (SELECT f.sha256 AS a, p.sha256 AS b, bit_count(CAST(f.phash # p.phash AS bit(64))) AS d
			FROM f JOIN photo_facts p ON p.sha256 <> f.sha256
			WHERE bit_count(CAST(f.phash # p.phash AS bit(64))) <= $7)
		INSERT INTO photo_matches (sha256, other_sha256, distance)
		SELECT a, b, d FROM m UNION ALL SELECT b, a, d FROM m`
	var taken sql.NullTime
	if !f.TakenAt.IsZero() {
		taken = sql.NullTime{Time: f.TakenAt, Valid: true}
	}
	var lat, lon sql.NullFloat64
	if f.HasGPS {
		lat, lon = sql.NullFloat64{Float64: f.Latitude, Valid: true}, sql.NullFloat64{Float64: f.Longitude, Valid: true}
	}
	if _, err := tx.x.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(photoMatchLock)); err != nil {
		return mapErr(err)
	}
	// The hash's 64 bits travel as a signed bigint: PostgreSQL has no
	// unsigned type, and XOR and bit_count work on the same bits.
	_, err := tx.x.ExecContext(ctx, query, f.SHA256, int64(f.PHash), taken, f.TakenZoned, lat, lon, maxBits)
	return mapErr(err)
}

// ImagesWithoutPhotoFacts returns up to limit distinct stored images whose
// facts are not recorded yet (a job lost to a full queue or a restart),
// oldest first.
func (q q) ImagesWithoutPhotoFacts(ctx context.Context, limit int) ([]Blob, error) {
	const query = `SELECT e.sha256, e.mime FROM evidence e
		WHERE e.mime IN ('image/jpeg', 'image/png')
		  AND NOT EXISTS (SELECT 1 FROM photo_facts f WHERE f.sha256 = e.sha256)
		GROUP BY e.sha256, e.mime ORDER BY min(e.id) LIMIT $1`
	var out []Blob
	rows, err := q.x.QueryxContext(ctx, query, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b Blob
		if err := rows.Scan(&b.SHA256, &b.MIME); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, b)
	}
	return out, mapErr(rows.Err())
}

// imagesCTE names every image evidence row with recorded facts as imgs: its
// grant and group, and its session — the activity it was uploaded to, or for
// a receipt the activity of the (unvoided) expense it proves.
const imagesCTE = `imgs AS (
	SELECT e.id, e.grant_id, g.group_id, e.kind, COALESCE(e.activity_id, x.activity_id) AS activity_id,
	       f.phash, f.taken_at, f.taken_zoned, f.latitude, f.longitude
	FROM evidence e
	JOIN photo_facts f ON f.sha256 = e.sha256
	JOIN grants g ON g.id = e.grant_id
	LEFT JOIN LATERAL (SELECT activity_id FROM expenses x
		WHERE x.receipt_id = e.id AND x.voided_at IS NULL ORDER BY x.id LIMIT 1) x ON true)`

// PhotoRow is an image of a grant with its facts, for staff.
type PhotoRow struct {
	EvidenceID int64
	ActivityID int64 // 0 when the image belongs to no session
	Kind       string
	PhotoFacts
}

// GrantPhotos returns the images of grant id whose facts are recorded, in
// upload order.
func (q q) GrantPhotos(ctx context.Context, id int64) ([]PhotoRow, error) {
	const query = `WITH ` + imagesCTE + `
		SELECT i.id, COALESCE(i.activity_id, 0), i.kind, e.sha256, i.phash, i.taken_at, i.taken_zoned, i.latitude, i.longitude
		FROM imgs i JOIN evidence e ON e.id = i.id WHERE i.grant_id = $1 ORDER BY i.id`
	rows, err := q.x.QueryxContext(ctx, query, id)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []PhotoRow
	for rows.Next() {
		var r PhotoRow
		var ph int64
		var taken sql.NullTime
		var lat, lon sql.NullFloat64
		if err := rows.Scan(&r.EvidenceID, &r.ActivityID, &r.Kind, &r.SHA256, &ph, &taken, &r.TakenZoned, &lat, &lon); err != nil {
			return nil, mapErr(err)
		}
		r.PHash = uint64(ph)
		if taken.Valid {
			r.TakenAt = taken.Time.UTC()
		}
		r.HasGPS, r.Latitude, r.Longitude = lat.Valid, lat.Float64, lon.Float64
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// PhotoReuse is an image of the grant asked for within the Hamming
// threshold of an image of another session or another group.
type PhotoReuse struct {
	EvidenceID      int64
	ActivityID      int64
	OtherEvidenceID int64
	OtherActivityID int64
	OtherGrantID    int64
	OtherNumber     string
	OtherGroupName  string
	Distance        int
}

// PhotoReuses returns, for each image of grant id, every image elsewhere
// (another session of this grant, or another group's grant) whose perceptual
// hash differs in at most maxBits bits; two images of one session, or two
// receipts of no session in one grant, are no reuse. Ordered by image and
// distance.
func (q q) PhotoReuses(ctx context.Context, id int64, maxBits int) ([]PhotoReuse, error) {
	const query = `WITH ` + imagesCTE + `
		SELECT m.id, COALESCE(m.activity_id, 0), o.id, COALESCE(o.activity_id, 0), o.grant_id, og.number, grp.name,
		       bit_count(CAST(m.phash # o.phash AS bit(64))) AS d
		FROM imgs m
		JOIN imgs o ON o.id <> m.id
		JOIN grants og ON og.id = o.grant_id
		JOIN groups grp ON grp.id = og.group_id
		WHERE m.grant_id = $1
		  AND (o.group_id <> m.group_id OR o.activity_id IS DISTINCT FROM m.activity_id)
		  AND bit_count(CAST(m.phash # o.phash AS bit(64))) <= $2
		ORDER BY m.id, d, o.id`
	rows, err := q.x.QueryxContext(ctx, query, id, maxBits)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []PhotoReuse
	for rows.Next() {
		var r PhotoReuse
		if err := rows.Scan(&r.EvidenceID, &r.ActivityID, &r.OtherEvidenceID, &r.OtherActivityID, &r.OtherGrantID,
			&r.OtherNumber, &r.OtherGroupName, &r.Distance); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// PhotoDateMismatch is an image of a session taken more than the allowed
// number of days from the session's date.
type PhotoDateMismatch struct {
	EvidenceID  int64
	ActivityID  int64
	TakenOn     workflow.Date // the capture day in Jakarta
	SessionOn   workflow.Date // held_on of the latest realisation, else planned_on
	DaysBetween int
}

// PhotoDateMismatches returns the images of grant id's sessions whose EXIF
// capture day (Asia/Jakarta) lies more than maxDays from the session's day.
func (q q) PhotoDateMismatches(ctx context.Context, id int64, maxDays int) ([]PhotoDateMismatch, error) {
	const query = `WITH ` + imagesCTE + `
		SELECT m.id, m.activity_id, s.taken_on, s.session_on, abs(s.taken_on - s.session_on)
		FROM imgs m
		JOIN activities a ON a.id = m.activity_id
		CROSS JOIN LATERAL (SELECT CAST(m.taken_at AT TIME ZONE 'Asia/Jakarta' AS date) AS taken_on,
			COALESCE((SELECT r.held_on FROM activity_realizations r WHERE r.activity_id = a.id
				ORDER BY r.version DESC LIMIT 1), a.planned_on) AS session_on) s
		WHERE m.grant_id = $1 AND m.taken_at IS NOT NULL AND s.session_on IS NOT NULL
		  AND abs(s.taken_on - s.session_on) > $2
		ORDER BY m.id`
	rows, err := q.x.QueryxContext(ctx, query, id, maxDays)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []PhotoDateMismatch
	for rows.Next() {
		var r PhotoDateMismatch
		if err := rows.Scan(&r.EvidenceID, &r.ActivityID, &r.TakenOn, &r.SessionOn, &r.DaysBetween); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}
