package postgres

import (
	"context"
	"time"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// activitiesSelect reads planned activities (aliased a) with the facts the
// guards need, derived from the append-only rows: cancelled when a
// cancellation exists, held when a realisation exists (its latest version
// gives the date and the attendance), and the count of evidence files. The
// caller adds the WHERE and ORDER BY (grantLists reads a grant's).
const activitiesSelect = `SELECT a.id, a.seq, a.kind, a.title, a.planned_on, a.planned_participants,
	CASE WHEN c.activity_id IS NOT NULL THEN 'cancelled' WHEN r.id IS NOT NULL THEN 'held' ELSE a.status END AS status,
	COALESCE(r.held_on, a.held_on) AS held_on,
	COALESCE((SELECT count(*) FROM activity_attendees t WHERE t.realization_id = r.id), 0) AS attendee_count,
	(SELECT count(*) FROM evidence v WHERE v.activity_id = a.id) AS evidence_count,
	COALESCE(r.version, 0) AS version,
	COALESCE(c.reason, '') AS cancel_reason
	FROM activities a
	LEFT JOIN LATERAL (SELECT id, version, held_on FROM activity_realizations
		WHERE activity_id = a.id ORDER BY version DESC LIMIT 1) r ON true
	LEFT JOIN activity_cancellations c ON c.activity_id = a.id`

// InsertRealization stores one version of a session's realisation with its
// attendees, in the caller's transaction, after the event that records it
// (r.EventID). A version already stored for the activity (two people
// correcting at once) answers EConflict; an attendee who is no member,
// EUnprocessable.
func (tx *Tx) InsertRealization(ctx context.Context, r workflow.Realization) (workflow.Realization, error) {
	const query = `INSERT INTO activity_realizations (activity_id, grant_id, version, held_on, location, hours, facilitator,
		summary, outputs, recorded_by, recorded_at, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id, recorded_at`
	if r.RecordedAt.IsZero() {
		r.RecordedAt = tx.now
	}
	err := tx.x.QueryRowxContext(ctx, query, r.ActivityID, r.GrantID, r.Version, r.HeldOn, r.Location, r.Hours, r.Facilitator,
		r.Summary, r.Outputs, r.RecordedBy, r.RecordedAt, r.EventID).Scan(&r.ID, &r.RecordedAt)
	if err != nil {
		if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
			return r, workflow.Errorf(workflow.EConflict, "pelaksanaan kegiatan %d versi %d sudah tercatat; muat ulang halaman", r.ActivityID, r.Version)
		}
		return r, mapErr(err)
	}
	r.RecordedAt = r.RecordedAt.UTC()
	const attendees = `INSERT INTO activity_attendees (realization_id, member_id) SELECT $1, unnest($2::bigint[])`
	if _, err := tx.x.ExecContext(ctx, attendees, r.ID, pq.Array(r.AttendeeIDs)); err != nil {
		if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
			return r, workflow.Errorf(workflow.EUnprocessable, "seorang anggota tercatat dua kali dalam daftar hadir")
		}
		return r, mapErr(err)
	}
	return r, nil
}

// realizationColumns reads a realisation row aliased r with its attendees
// (member ids, ascending).
const realizationColumns = `r.id, r.activity_id, r.grant_id, r.version, r.held_on, r.location, r.hours, r.facilitator,
	COALESCE((SELECT array_agg(t.member_id ORDER BY t.member_id) FROM activity_attendees t WHERE t.realization_id = r.id), '{}'),
	r.summary, r.outputs, r.recorded_by, r.recorded_at, r.event_id`

func (q q) realizations(ctx context.Context, query string, args ...any) ([]workflow.Realization, error) {
	rows, err := q.x.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []workflow.Realization{}
	for rows.Next() {
		var r workflow.Realization
		var ids pq.Int64Array
		if err := rows.Scan(&r.ID, &r.ActivityID, &r.GrantID, &r.Version, &r.HeldOn, &r.Location, &r.Hours, &r.Facilitator,
			&ids, &r.Summary, &r.Outputs, &r.RecordedBy, &r.RecordedAt, &r.EventID); err != nil {
			return nil, mapErr(err)
		}
		r.AttendeeIDs, r.RecordedAt = []int64(ids), r.RecordedAt.UTC()
		if r.AttendeeIDs == nil {
			r.AttendeeIDs = []int64{}
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// Realizations returns the latest realisation of every held session of a
// grant, in plan order (empty when none was held).
func (q q) Realizations(ctx context.Context, grantID int64) ([]workflow.Realization, error) {
	const query = `SELECT ` + realizationColumns + ` FROM activity_realizations r JOIN activities a ON a.id = r.activity_id
		WHERE r.grant_id = $1 AND r.version = (SELECT max(version) FROM activity_realizations WHERE activity_id = r.activity_id)
		ORDER BY a.seq`
	return q.realizations(ctx, query, grantID)
}

// RealizationHistory returns every version of an activity's realisation of
// grant grantID, oldest first: the corrections with the values they replaced.
// An activity never held (or of another grant) gives an empty list.
func (q q) RealizationHistory(ctx context.Context, grantID, activityID int64) ([]workflow.Realization, error) {
	const query = `SELECT ` + realizationColumns + ` FROM activity_realizations r
		WHERE r.grant_id = $1 AND r.activity_id = $2 ORDER BY r.version`
	return q.realizations(ctx, query, grantID, activityID)
}

// Cancellation is a verifier's cancellation of a planned activity.
type Cancellation struct {
	ActivityID  int64     `json:"activity_id"`
	GrantID     int64     `json:"grant_id"`
	Reason      string    `json:"reason"`
	CancelledBy int64     `json:"cancelled_by"`
	CancelledAt time.Time `json:"cancelled_at"`
	EventID     int64     `json:"event_id"`
}

// InsertCancellation records the cancellation of an activity after the
// event that records it (c.EventID). A second cancellation of the same
// activity answers EConflict.
func (tx *Tx) InsertCancellation(ctx context.Context, c Cancellation) (Cancellation, error) {
	const query = `INSERT INTO activity_cancellations (activity_id, grant_id, reason, cancelled_by, cancelled_at, event_id)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING cancelled_at`
	if c.CancelledAt.IsZero() {
		c.CancelledAt = tx.now
	}
	err := tx.x.QueryRowxContext(ctx, query, c.ActivityID, c.GrantID, c.Reason, c.CancelledBy, c.CancelledAt, c.EventID).Scan(&c.CancelledAt)
	if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
		return c, workflow.Errorf(workflow.EConflict, "kegiatan %d sudah dibatalkan", c.ActivityID)
	}
	c.CancelledAt = c.CancelledAt.UTC()
	return c, mapErr(err)
}

// Cancellations returns a grant's activity cancellations by activity id.
func (q q) Cancellations(ctx context.Context, grantID int64) ([]Cancellation, error) {
	const query = `SELECT activity_id, grant_id, reason, cancelled_by, cancelled_at, event_id
		FROM activity_cancellations WHERE grant_id = $1 ORDER BY activity_id`
	out := []Cancellation{}
	err := q.x.SelectContext(ctx, &out, query, grantID)
	return out, mapErr(err)
}

// MemberAttendance returns, for every member of the grant's group in
// register order, how many of the grant's held sessions (latest realisation
// of each) they attended and how many were held.
func (q q) MemberAttendance(ctx context.Context, grantID int64) ([]workflow.MemberAttendance, error) {
	const query = `WITH latest AS (
			SELECT DISTINCT ON (activity_id) id FROM activity_realizations
			WHERE grant_id = $1 ORDER BY activity_id, version DESC)
		SELECT m.id, m.name,
			(SELECT count(*) FROM activity_attendees t JOIN latest l ON l.id = t.realization_id WHERE t.member_id = m.id),
			(SELECT count(*) FROM latest)
		FROM grants g JOIN members m ON m.group_id = g.group_id
		WHERE g.id = $1 ORDER BY m.seq`
	rows, err := q.x.QueryxContext(ctx, query, grantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []workflow.MemberAttendance{}
	for rows.Next() {
		var m workflow.MemberAttendance
		if err := rows.Scan(&m.MemberID, &m.Name, &m.Present, &m.Of); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// ActivityFile is an evidence row of an activity with its uploader's name,
// as the activity list shows it.
type ActivityFile struct {
	File
	UploaderName string `json:"uploader_name"`
}

// ActivityFiles returns the evidence files of a grant's activities in upload
// order; with activityID > 0 only that activity's.
func (q q) ActivityFiles(ctx context.Context, grantID, activityID int64) ([]ActivityFile, error) {
	const query = `SELECT v.id, v.grant_id, v.activity_id, v.kind, v.sha256, v.size, v.mime,
		COALESCE(v.preview_sha256, '') AS preview_sha256, v.uploaded_by, v.created_at, u.name AS uploader_name
		FROM evidence v JOIN users u ON u.id = v.uploaded_by
		WHERE v.grant_id = $1 AND v.activity_id IS NOT NULL AND ($2 = 0 OR v.activity_id = $2) ORDER BY v.id`
	out := []ActivityFile{}
	err := q.x.SelectContext(ctx, &out, query, grantID, activityID)
	return out, mapErr(err)
}

// ActivitySpending returns the gross of a grant's standing (not voided)
// expenses per activity id; activities with no expense are absent.
func (q q) ActivitySpending(ctx context.Context, grantID int64) (map[int64]int64, error) {
	const query = `SELECT activity_id, sum(amount) FROM expenses
		WHERE grant_id = $1 AND activity_id IS NOT NULL AND voided_at IS NULL GROUP BY activity_id`
	rows, err := q.x.QueryxContext(ctx, query, grantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, sum int64
		if err := rows.Scan(&id, &sum); err != nil {
			return nil, mapErr(err)
		}
		out[id] = sum
	}
	return out, mapErr(rows.Err())
}

// HeldSessionsSelect returns (group_id, held_on) for every held In/On
// session, each on the date of its latest realisation version. SPEC §7
// counts a held session as a meeting: the group_meetings view unions it with
// the meetings table.
const HeldSessionsSelect = `SELECT g.group_id, r.held_on
	FROM (SELECT DISTINCT ON (activity_id) grant_id, held_on FROM activity_realizations
		ORDER BY activity_id, version DESC) r
	JOIN grants g ON g.id = r.grant_id`

// HeldSessionDays returns the days a group held funded sessions, oldest
// first, a day once however many sessions it saw.
func (q q) HeldSessionDays(ctx context.Context, groupID int64) ([]workflow.Date, error) {
	const query = `SELECT DISTINCT held_on FROM (` + HeldSessionsSelect + `) s WHERE group_id = $1 ORDER BY held_on`
	out := []workflow.Date{}
	err := q.x.SelectContext(ctx, &out, query, groupID)
	return out, mapErr(err)
}

// LatestEvent returns the latest event of grant grantID recording action
// (by chain order), or ENotFound when there is none.
func (q q) LatestEvent(ctx context.Context, grantID int64, action string) (workflow.Event, error) {
	const query = `SELECT ` + eventColumns + ` FROM grant_events WHERE grant_id = $1 AND action = $2 ORDER BY seq DESC LIMIT 1`
	ev, err := scanEvent(q.x.QueryRowxContext(ctx, query, grantID, action))
	if err != nil {
		return ev, notFound(err, "peristiwa "+action+" hibah", grantID)
	}
	return ev, nil
}
