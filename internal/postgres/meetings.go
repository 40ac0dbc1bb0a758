package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"grantflow/workflow"
)

// Meeting is one row of a group's meeting log. A correction is a new row
// whose Supersedes names the row it replaces; rows are never changed.
type Meeting struct {
	ID             int64         `json:"id"`
	GroupID        int64         `json:"group_id"`
	HeldOn         workflow.Date `json:"held_on"`
	Topic          string        `json:"topic"`
	AttendeesCount int           `json:"attendees_count"`
	Notes          string        `json:"notes"`
	PhotoID        *int64        `json:"photo_id"`
	Supersedes     *int64        `json:"supersedes"`
	CreatedBy      int64         `json:"created_by"`
	CreatedAt      time.Time     `json:"created_at"`
}

// MeetingGroup is what logging a meeting checks about its group.
type MeetingGroup struct {
	ID           int64
	ProvinceCode string
	RegencyCode  string
	RegisteredAt time.Time
	Members      int
}

// LockMeetingGroup locks group id's row (so corrections of one group's log
// are serialised) and returns its region, registration time and member
// count, or ENotFound.
func (tx *Tx) LockMeetingGroup(ctx context.Context, id int64) (MeetingGroup, error) {
	const lock = `SELECT id FROM groups WHERE id = $1 FOR UPDATE`
	var got int64
	if err := tx.x.GetContext(ctx, &got, lock, id); err != nil {
		return MeetingGroup{}, notFound(err, "kelompok", id)
	}
	const query = `SELECT g.id, g.province_code, g.regency_code, g.created_at,
		(SELECT count(*) FROM members m WHERE m.group_id = g.id)
		FROM groups g WHERE g.id = $1`
	var mg MeetingGroup
	err := tx.x.QueryRowxContext(ctx, query, id).Scan(&mg.ID, &mg.ProvinceCode, &mg.RegencyCode, &mg.RegisteredAt, &mg.Members)
	if err != nil {
		return mg, notFound(err, "kelompok", id)
	}
	return mg, nil
}

const meetingColumns = `id, group_id, held_on, topic, attendees_count, notes, photo_id, supersedes, created_by, created_at`

// InsertMeeting appends m and returns it with its id and time. A second
// correction of the same row answers EConflict (supersedes is unique).
func (tx *Tx) InsertMeeting(ctx context.Context, m Meeting) (Meeting, error) {
	const query = `INSERT INTO meetings (group_id, held_on, topic, attendees_count, notes, photo_id, supersedes, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ` + meetingColumns
	var out Meeting
	err := tx.x.QueryRowxContext(ctx, query, m.GroupID, m.HeldOn, m.Topic, m.AttendeesCount, m.Notes, m.PhotoID,
		m.Supersedes, m.CreatedBy, tx.now).StructScan(&out)
	return out, mapErr(err)
}

// CurrentMeeting returns meeting id of group groupID when no correction has
// superseded it yet; else ENotFound (another group's row) or EConflict
// (already corrected: correct the newest row instead).
func (tx *Tx) CurrentMeeting(ctx context.Context, groupID, id int64) (Meeting, error) {
	const query = `SELECT ` + meetingColumns + `, EXISTS (SELECT 1 FROM meetings c WHERE c.supersedes = m.id) AS superseded
		FROM meetings m WHERE m.id = $1 AND m.group_id = $2`
	var row struct {
		Meeting
		Superseded bool `json:"superseded"`
	}
	if err := tx.x.QueryRowxContext(ctx, query, id, groupID).StructScan(&row); err != nil {
		return Meeting{}, notFound(err, "pertemuan", id)
	}
	if row.Superseded {
		return row.Meeting, workflow.Errorf(workflow.EConflict, "pertemuan %d sudah dikoreksi; koreksi versi terbarunya", id)
	}
	return row.Meeting, nil
}

// GroupPhoto reports whether evidence id is a photo (JPEG or PNG) uploaded to
// a grant of group groupID.
func (tx *Tx) GroupPhoto(ctx context.Context, groupID, id int64) (bool, error) {
	const query = `SELECT EXISTS (SELECT 1 FROM evidence e JOIN grants g ON g.id = e.grant_id
		WHERE e.id = $1 AND g.group_id = $2 AND e.mime IN ('image/jpeg', 'image/png'))`
	var ok bool
	err := tx.x.GetContext(ctx, &ok, query, id, groupID)
	return ok, mapErr(err)
}

// Meetings returns group groupID's log as it stands (rows no correction
// superseded), newest meeting first.
func (q q) Meetings(ctx context.Context, groupID int64) ([]Meeting, error) {
	const query = `SELECT ` + meetingColumns + ` FROM meetings m
		WHERE m.group_id = $1 AND NOT EXISTS (SELECT 1 FROM meetings c WHERE c.supersedes = m.id)
		ORDER BY m.held_on DESC, m.id DESC`
	out := []Meeting{}
	if err := q.x.SelectContext(ctx, &out, query, groupID); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, mapErr(err)
	}
	return out, nil
}

// GroupWatch is one group's row of the latest scan, with the group's latest
// meeting as recorded now (which the scan may not have seen yet).
type GroupWatch struct {
	Status          string         `json:"status"`
	StatusSince     workflow.Date  `json:"status_since"`
	FundingEndedOn  workflow.Date  `json:"funding_ended_on"`
	LastMeetingOn   *workflow.Date `json:"last_meeting_on"`
	DaysSilent      int            `json:"days_silent"`
	ScannedOn       workflow.Date  `json:"scanned_on"`
	LatestMeetingOn *workflow.Date `json:"-"`
	AtRiskAfter     int            `json:"-"` // the programme's thresholds, in days
	DormantAfter    int            `json:"-"`
}

// GroupWatch returns group groupID's row of the latest scan, or ENotFound
// when the latest scan does not monitor it.
func (q q) GroupWatch(ctx context.Context, groupID int64) (GroupWatch, error) {
	query := `SELECT s.status, s.since, s.funding_ended_on, s.last_meeting_on, s.days_silent, s.scanned_on, ` +
		lastMeeting("s.group_id", "CAST('infinity' AS date)") + ` AS latest, p.at_risk_after_days, p.dormant_after_days
		FROM monitoring_status s JOIN programs p ON p.id = s.program_id WHERE s.group_id = $1`
	var w GroupWatch
	err := q.x.QueryRowxContext(ctx, query, groupID).Scan(&w.Status, &w.StatusSince, &w.FundingEndedOn, &w.LastMeetingOn,
		&w.DaysSilent, &w.ScannedOn, &w.LatestMeetingOn, &w.AtRiskAfter, &w.DormantAfter)
	if err != nil {
		return w, notFound(err, "pemantauan kelompok", groupID)
	}
	return w, nil
}

// StatusSpan is one row of a group's monitoring history: a status from
// since until the day before until (nil while it lasts), as the scan of
// scanned_on stored it.
type StatusSpan struct {
	Status    string         `json:"status"`
	Since     workflow.Date  `json:"since"`
	Until     *workflow.Date `json:"until"`
	ScannedOn workflow.Date  `json:"scanned_on"`
}

// StatusHistory returns group groupID's monitoring history, newest first
// (SPEC §7: status changes are kept as history).
func (q q) StatusHistory(ctx context.Context, groupID int64) ([]StatusSpan, error) {
	const query = `SELECT status, since, until, scanned_on FROM monitoring_history WHERE group_id = $1 ORDER BY since DESC, id DESC`
	out := []StatusSpan{}
	err := q.x.SelectContext(ctx, &out, query, groupID)
	return out, mapErr(err)
}

// PhotoGrant returns the grant a meeting photo of group groupID is filed
// under: the group's latest grant that was funded. Evidence rows belong to
// a grant, so the photo is shown, previewed, kept from `grantflow gc` and
// served by GET /evidence/{id} like every other photo of the group. A group
// never funded has none: ENotFound.
func (tx *Tx) PhotoGrant(ctx context.Context, groupID int64) (int64, error) {
	const query = `SELECT id FROM grants WHERE group_id = $1 AND state IN ('funded', 'report_submitted', 'closed')
		ORDER BY id DESC LIMIT 1`
	var id int64
	if err := tx.x.GetContext(ctx, &id, query, groupID); err != nil {
		return 0, notFound(err, "hibah kelompok", groupID)
	}
	return id, nil
}
