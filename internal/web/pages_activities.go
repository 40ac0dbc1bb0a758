package web

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// evidenceKindLabels name the kinds of activity evidence (grants.EvidenceKinds).
var evidenceKindLabels = map[string]string{
	"attendance": "Daftar hadir",
	"photo":      "Foto kegiatan",
	"minutes":    "Notulen",
	"output":     "Hasil kegiatan",
	"other":      "Lainnya",
	// The money files, listed with the rest on the grant page.
	"receipt":      "Nota belanja",
	"refund_proof": "Bukti setor",
}

// evidenceField is the file input of the activity evidence form, as the API names it.
const evidenceField = "file"

// realizeFields are the text fields of the realisation form, in the order
// the page shows them; attendee_ids is the group of checkboxes.
var realizeFields = []string{"held_on", "location", "hours", "facilitator", "attendee_ids", "summary", "outputs"}

// realizeForm is what was typed into the realisation form.
type realizeForm struct {
	Fields    map[string]string
	Attendees map[int64]bool
	Errors    formErrors
}

// evidenceForm is the kind chosen on the upload form and its messages.
type evidenceForm struct {
	Kind   string
	Errors formErrors
}

// cancelForm is the verifier's cancellation reason and its messages.
type cancelForm struct {
	Reason string
	Errors formErrors
}

// activityData is the data of templates/activity.html: one planned session
// of a grant with its realisation, its versions, attendance and evidence,
// and the forms this person may use on it now.
type activityData struct {
	G       grants.View
	A       grants.ActivityView
	Members []workflow.Member
	// Versions are the realisation's versions, newest first: the first
	// recorded and each correction (the API keeps every one).
	Versions   []workflow.Realization
	Present    map[int64]bool // members present at the latest version
	CanRealize bool           // chair or treasurer of the group, grant funded, not cancelled
	CanUpload  bool
	CanCancel  bool // a verifier, grant funded, session still planned
	Saved      string
	Realize    realizeForm
	Evidence   evidenceForm
	Cancel     cancelForm
	Kinds      []string
}

// activityPath is the page of activity aid of grant id.
func activityPath(id, aid int64) string { return fmt.Sprintf("/hibah/%d/kegiatan/%d", id, aid) }

// loadActivity reads the grant, the session as the API lists it, the
// group's members and the realisation's versions, each through the
// service reads the API uses; the permissions mirror the service's checks
// so no form on the page leads to a refusal by role or state.
func (s *Server) loadActivity(c *fiber.Ctx, id, aid int64) (activityData, error) {
	ctx, a := c.UserContext(), actor(c)
	d := activityData{Kinds: grants.EvidenceKinds, Present: map[int64]bool{}}
	var err error
	if d.G, err = s.svc.Grant(ctx, a, id); err != nil {
		return d, err
	}
	list, err := s.svc.Activities(ctx, a, id)
	if err != nil {
		return d, err
	}
	i := slices.IndexFunc(list.Items, func(v grants.ActivityView) bool { return v.ID == aid })
	if i < 0 {
		return d, workflow.Errorf(workflow.ENotFound, "kegiatan %d tidak ditemukan pada hibah ini", aid)
	}
	d.A = list.Items[i]
	grp, err := s.svc.Group(ctx, a, d.G.GroupID)
	if err != nil {
		return d, err
	}
	d.Members = grp.Members
	if d.Versions, err = s.svc.RealizationHistory(ctx, a, id, aid); err != nil {
		return d, err
	}
	slices.Reverse(d.Versions)
	if d.A.Realization != nil {
		for _, m := range d.A.Realization.AttendeeIDs {
			d.Present[m] = true
		}
	}
	funded := d.G.State == workflow.Funded
	member := a.GroupID == d.G.GroupID && (a.Has(workflow.RoleChair) || a.Has(workflow.RoleTreasurer))
	d.CanRealize = member && funded && d.A.Status != workflow.ActivityCancelled
	d.CanUpload = d.CanRealize
	d.CanCancel = a.Has(workflow.RoleVerifier) && funded && d.A.Status == workflow.ActivityPlanned
	d.Realize = s.realizePrefill(d)
	d.Evidence.Kind = "photo"
	return d, nil
}

// realizePrefill fills the realisation form with the latest version, so a
// correction starts from what was recorded; a first realisation starts on
// the planned day when it has passed, else on today.
func (s *Server) realizePrefill(d activityData) realizeForm {
	f := realizeForm{Fields: map[string]string{}, Attendees: map[int64]bool{}}
	if r := d.A.Realization; r != nil {
		f.Fields["held_on"], f.Fields["location"], f.Fields["hours"] = r.HeldOn.String(), r.Location, strconv.Itoa(r.Hours)
		f.Fields["facilitator"], f.Fields["summary"], f.Fields["outputs"] = r.Facilitator, r.Summary, r.Outputs
		for _, m := range r.AttendeeIDs {
			f.Attendees[m] = true
		}
		return f
	}
	day := s.today()
	if !d.A.PlannedOn.IsZero() && !d.A.PlannedOn.After(day) {
		day = d.A.PlannedOn
	}
	f.Fields["held_on"] = day.String()
	return f
}

func (s *Server) activityPage(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	d, err := s.loadActivity(c, id, aid)
	if err != nil {
		return err
	}
	switch c.Query("tersimpan") {
	case "pelaksanaan":
		d.Saved = "Pelaksanaan kegiatan tersimpan."
	case "bukti":
		d.Saved = "Bukti kegiatan tersimpan."
	case "batal":
		d.Saved = "Kegiatan dibatalkan."
	}
	return s.renderActivity(c, fiber.StatusOK, d)
}

func (s *Server) renderActivity(c *fiber.Ctx, status int, d activityData) error {
	return s.render(c, status, "activity", fmt.Sprintf("%s · %s", d.A.Title, d.G.Number), d)
}

// foldIndexed moves the details of field[i] onto field itself, so the
// messages about one checkbox of a group stand beside the group.
func foldIndexed(err error, field string) error {
	var we *workflow.Error
	if !errors.As(err, &we) {
		return err
	}
	out := *we
	out.Details = slices.Clone(we.Details)
	for i, d := range out.Details {
		if strings.HasPrefix(d.Field, field+"[") {
			out.Details[i].Field = field
		}
	}
	return &out
}

// realizePost records the session as held, or corrects it (the service
// keeps the earlier version), through the same service call as POST
// /grants/{id}/activities/{aid}/realization. A refusal re-renders the
// page with each message beside its field and everything typed kept.
func (s *Server) realizePost(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	fm := &form{fields: map[string]string{}}
	for _, k := range realizeFields {
		fm.fields[k] = c.FormValue(k)
	}
	typed := realizeForm{Fields: fm.fields, Attendees: map[int64]bool{}}
	var ids []int64
	for _, raw := range c.Request().PostArgs().PeekMulti("attendee_ids") {
		n, perr := strconv.ParseInt(string(raw), 10, 64)
		if perr != nil || n <= 0 {
			fm.p.Add("attendee_ids", "pilihan anggota tidak valid")
			continue
		}
		ids = append(ids, n)
		typed.Attendees[n] = true
	}
	in := grants.RealizationInput{HeldOn: fm.date("held_on"), Location: strings.TrimSpace(fm.fields["location"]), Hours: fm.count("hours"),
		Facilitator: strings.TrimSpace(fm.fields["facilitator"]), AttendeeIDs: ids,
		Summary: strings.TrimSpace(fm.fields["summary"]), Outputs: strings.TrimSpace(fm.fields["outputs"])}
	err = fm.check(in, "pelaksanaan kegiatan belum memenuhi syarat")
	if err == nil {
		if _, err = s.svc.RealizeActivity(c.UserContext(), actor(c), id, aid, in); err == nil {
			return c.Redirect(activityPath(id, aid)+"?tersimpan=pelaksanaan", fiber.StatusSeeOther)
		}
	}
	d, lerr := s.loadActivity(c, id, aid)
	if lerr != nil {
		return lerr
	}
	d.Realize = typed
	status := d.Realize.Errors.from(foldIndexed(err, "attendee_ids"), realizeFields...)
	if status == 0 {
		return err
	}
	return s.renderActivity(c, status, d)
}

// evidencePost takes the multipart evidence form (kind, then the file) as
// POST /grants/{id}/activities/{aid}/evidence does. As on the expense
// page, the CSRF token travels inside the streamed body; a refused file
// comes back beside the file input with the chosen kind kept.
func (s *Server) evidencePost(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	if err := s.canUpload(c, id, workflow.RoleChair, workflow.RoleTreasurer); err != nil {
		return err
	}
	var obj *evidence.Object
	mf, uploadErr := readMultipart(c, []string{csrfField, "kind"}, evidenceField, s.ingestChosen(c, &obj))
	if uploadErr != nil && (mf == nil || workflow.ErrorCode(uploadErr) == workflow.EInternal || workflow.ErrorCode(uploadErr) == workflow.EUnavailable) {
		return uploadErr
	}
	ctx, cancel, err := s.afterStream(c, mf.fields[csrfField])
	if err != nil {
		return err
	}
	defer cancel()
	kind := strings.TrimSpace(mf.fields["kind"])
	if uploadErr == nil {
		_, err = s.svc.AddActivityEvidence(ctx, actor(c), id, aid, kind, obj)
		if err == nil {
			return c.Redirect(activityPath(id, aid)+"?tersimpan=bukti#bukti", fiber.StatusSeeOther)
		}
	} else {
		err = uploadErr
	}
	d, lerr := s.loadActivity(c, id, aid)
	if lerr != nil {
		return lerr
	}
	d.Evidence.Kind = kind
	var we *workflow.Error
	status := 0
	if errors.As(err, &we) && (we.Code == workflow.ETooLarge || we.Code == workflow.EUnsupported) {
		d.Evidence.Errors.field(evidenceField, sentence(we.Message)+". Pilih foto atau PDF (JPEG, PNG atau PDF, paling besar 10 MiB).")
		status = statusOf[we.Code]
	} else if status = d.Evidence.Errors.from(err, "kind", evidenceField); status == 0 {
		return err
	}
	return s.renderActivity(c, status, d)
}

// cancelActivityPost is a verifier cancelling a planned session with a
// reason, as POST /grants/{id}/activities/{aid}/cancel.
func (s *Server) cancelActivityPost(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	in := grants.CancelActivityInput{Reason: strings.TrimSpace(c.FormValue("reason"))}
	err = (&form{}).check(in, "pembatalan kegiatan belum memenuhi syarat")
	if err == nil {
		if _, err = s.svc.CancelActivity(c.UserContext(), actor(c), id, aid, in); err == nil {
			return c.Redirect(activityPath(id, aid)+"?tersimpan=batal", fiber.StatusSeeOther)
		}
	}
	d, lerr := s.loadActivity(c, id, aid)
	if lerr != nil {
		return lerr
	}
	d.Cancel.Reason = in.Reason
	status := d.Cancel.Errors.from(err, "reason")
	if status == 0 {
		return err
	}
	return s.renderActivity(c, status, d)
}
