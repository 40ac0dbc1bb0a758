package grants

import (
	"context"

	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// RealizationInput is the body of POST /grants/{id}/activities/{aid}/realization:
// the facts of a held session. The tags only refuse what no rule of
// workflow.RealizationProblems reads (control characters, absurd sizes);
// required fields, lengths, hours, dates and attendees are its rules, so
// each reason is reported once.
type RealizationInput struct {
	HeldOn      workflow.Date `json:"held_on" validate:"day" label:"Tanggal pelaksanaan"`
	Location    string        `json:"location" validate:"nocontrol" label:"Tempat"`
	Hours       int           `json:"hours" label:"Jumlah JP"`
	Facilitator string        `json:"facilitator" validate:"nocontrol" label:"Fasilitator"`
	AttendeeIDs []int64       `json:"attendee_ids" validate:"max=1000" label:"Daftar hadir"`
	Summary     string        `json:"summary" validate:"nocontrol" label:"Ringkasan kegiatan"`
	Outputs     string        `json:"outputs" validate:"nocontrol" label:"Hasil kegiatan"`
}

// CancelActivityInput is the body of POST /grants/{id}/activities/{aid}/cancel.
type CancelActivityInput struct {
	Reason string `json:"reason" validate:"nocontrol" label:"Alasan pembatalan"`
}

// Attendance is a count of people present out of those who could be, with
// its whole percentage (rounded down), as the API shows it.
type Attendance struct {
	Present int `json:"present"`
	Of      int `json:"of"`
	Percent int `json:"percent"`
}

func attendance(a workflow.Attendance) Attendance {
	return Attendance{Present: a.Present, Of: a.Of, Percent: a.Percent()}
}

// ActivityEvidence is one evidence file of an activity: kind, size,
// SHA-256, who uploaded it and when.
type ActivityEvidence struct {
	FileView
	UploaderName string `json:"uploader_name"`
}

// ActivityView is one planned session with its latest realisation (nil
// until held), its attendance (present of the group's members), its
// evidence files and the money its standing expenses spent.
type ActivityView struct {
	workflow.Activity
	Realization *workflow.Realization `json:"realization"`
	Attendance  Attendance            `json:"attendance"`
	Evidence    []ActivityEvidence    `json:"evidence"`
	Spent       int64                 `json:"spent"`
}

// MemberAttendance is one member's attendance across the grant's held sessions.
type MemberAttendance struct {
	MemberID   int64      `json:"member_id"`
	Name       string     `json:"name"`
	Attendance Attendance `json:"attendance"`
}

// ActivitiesView is GET /grants/{id}/activities: every planned session in
// plan order and each member's attendance across the sessions held.
type ActivitiesView struct {
	GrantID          int64              `json:"grant_id"`
	Members          int                `json:"members"`
	Items            []ActivityView     `json:"items"`
	Total            int                `json:"total"`
	MemberAttendance []MemberAttendance `json:"member_attendance"`
}

// RealizeActivity records that activity activityID of grant id was held, or
// corrects its realisation: the group's chair or treasurer while the grant
// is funded (workflow.Realize). A correction is a new version with its own
// event; the earlier versions stay. Returns the activity as listed.
func (s *Service) RealizeActivity(ctx context.Context, a workflow.Actor, id, activityID int64, in RealizationInput) (ActivityView, error) {
	var out ActivityView
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		prog, err := tx.Program(ctx, g.ProgramID)
		if err != nil {
			return err
		}
		grp, err := tx.Group(ctx, g.GroupID)
		if err != nil {
			return err
		}
		ds, err := tx.Disbursements(ctx, id)
		if err != nil {
			return err
		}
		rz, ev, err := workflow.Realize(&g, workflow.RealizeRequest{Actor: a, Now: s.now().In(workflow.Jakarta), ActivityID: activityID,
			Program: prog, FirstTransfer: workflow.FirstTransfer(ds), Members: grp.Members,
			Realization: workflow.Realization{HeldOn: in.HeldOn, Location: in.Location, Hours: in.Hours, Facilitator: in.Facilitator,
				AttendeeIDs: in.AttendeeIDs, Summary: in.Summary, Outputs: in.Outputs}})
		if err != nil && workflow.ErrorCode(err) != workflow.EUnprocessable {
			return err
		}
		// The rules' reasons and the tags' (control characters) at once.
		if err := validate.With(in, err, "pelaksanaan kegiatan belum memenuhi syarat"); err != nil {
			return err
		}
		saved, err := tx.AppendEvent(ctx, ev)
		if err != nil {
			return err
		}
		rz.EventID = saved.ID
		if _, err := tx.InsertRealization(ctx, rz); err != nil {
			return err
		}
		out, err = oneActivity(ctx, tx, g, activityID, len(grp.Members))
		return err
	})
	return out, err
}

// CancelActivity cancels a planned session of a funded grant with a reason:
// a verifier who sees the grant (out of scope answers ENotFound like a
// missing grant). A held or already cancelled session answers EConflict.
func (s *Service) CancelActivity(ctx context.Context, a workflow.Actor, id, activityID int64, in CancelActivityInput) (ActivityView, error) {
	var out ActivityView
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		ev, err := workflow.CancelActivity(&g, workflow.CancelActivityRequest{Actor: a, Now: s.now().In(workflow.Jakarta), ActivityID: activityID, Reason: in.Reason})
		if err != nil && workflow.ErrorCode(err) != workflow.EUnprocessable {
			return err
		}
		if err := validate.With(in, err, "pembatalan kegiatan belum memenuhi syarat"); err != nil {
			return err
		}
		saved, err := tx.AppendEvent(ctx, ev)
		if err != nil {
			return err
		}
		if _, err := tx.InsertCancellation(ctx, postgres.Cancellation{ActivityID: activityID, GrantID: id, Reason: ev.Comment,
			CancelledBy: a.UserID, CancelledAt: saved.At, EventID: saved.ID}); err != nil {
			return err
		}
		full, err := tx.Group(ctx, grp.ID)
		if err != nil {
			return err
		}
		out, err = oneActivity(ctx, tx, g, activityID, len(full.Members))
		return err
	})
	return out, err
}

// Activities returns a grant's sessions with realisation, attendance,
// evidence and money spent, and each member's attendance, when a may see
// the grant; else ENotFound.
func (s *Service) Activities(ctx context.Context, a workflow.Actor, id int64) (ActivitiesView, error) {
	var out ActivitiesView
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := visibleGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		full, err := tx.Group(ctx, grp.ID)
		if err != nil {
			return err
		}
		out, err = activities(ctx, tx, g, len(full.Members))
		return err
	})
	return out, err
}

// RealizationHistory returns every version of an activity's realisation,
// oldest first (the corrections with the values they replaced), when a may
// see the grant.
func (s *Service) RealizationHistory(ctx context.Context, a workflow.Actor, id, activityID int64) ([]workflow.Realization, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Realization, error) {
		return tx.RealizationHistory(ctx, id, activityID)
	})
}

// activities assembles the activity list of g (read in tx) for a group of
// members members.
func activities(ctx context.Context, tx *postgres.Tx, g workflow.Grant, members int) (ActivitiesView, error) {
	out := ActivitiesView{GrantID: g.ID, Members: members}
	items, err := activityViews(ctx, tx, g, 0, members)
	if err != nil {
		return out, err
	}
	out.Items, out.Total = items, len(items)
	ma, err := tx.MemberAttendance(ctx, g.ID)
	if err != nil {
		return out, err
	}
	out.MemberAttendance = make([]MemberAttendance, len(ma))
	for i, m := range ma {
		out.MemberAttendance[i] = MemberAttendance{MemberID: m.MemberID, Name: m.Name, Attendance: attendance(m.Attendance)}
	}
	return out, nil
}

// oneActivity is activity id of g as the list shows it: the answer of a
// realisation or cancellation, read without the other sessions' files.
func oneActivity(ctx context.Context, tx *postgres.Tx, g workflow.Grant, id int64, members int) (ActivityView, error) {
	items, err := activityViews(ctx, tx, g, id, members)
	if err != nil || len(items) == 0 {
		return ActivityView{}, err
	}
	return items[0], nil
}

// activityViews returns the views of g's activities in plan order, or of
// activity only when it is not 0.
func activityViews(ctx context.Context, tx *postgres.Tx, g workflow.Grant, activity int64, members int) ([]ActivityView, error) {
	held, err := tx.Realizations(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	files, err := tx.ActivityFiles(ctx, g.ID, activity)
	if err != nil {
		return nil, err
	}
	spent, err := tx.ActivitySpending(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	byActivity := map[int64]*workflow.Realization{}
	for i := range held {
		byActivity[held[i].ActivityID] = &held[i]
	}
	out := make([]ActivityView, 0, len(g.Activities))
	for _, act := range g.Activities {
		if activity != 0 && act.ID != activity {
			continue
		}
		v := ActivityView{Activity: act, Evidence: []ActivityEvidence{}, Spent: spent[act.ID], Attendance: Attendance{Of: members}}
		if r := byActivity[act.ID]; r != nil && act.Status == workflow.ActivityHeld {
			v.Realization = r
			v.Attendance = attendance(workflow.SessionAttendance(*r, members))
		}
		for _, f := range files {
			if f.ActivityID == act.ID {
				v.Evidence = append(v.Evidence, ActivityEvidence{FileView: viewFile(f.File), UploaderName: f.UploaderName})
			}
		}
		out = append(out, v)
	}
	return out, nil
}
