package grants_test

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// The background worker records each uploaded photo's facts from the
// original, and the flags find one photo handed in again — for another
// session of the same grant and by another group — after a resize, a
// recompression and a slight crop, but not a different photo of the same
// room; a photo taken 10 days from its session's date is flagged too.
func TestPhotoFactsAndFlags(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g1, g2 := f.fundedGrant(t), f.fundedGrant(t)
	bg := grants.New(f.db, grants.Options{Store: f.store, BackgroundPreviews: true})
	defer bg.Close()

	day := func(d workflow.Date, hour int) string {
		return d.Time().Format("2006:01:02") + fmt.Sprintf(" %02d:00:00", hour)
	}
	s1, s2 := g1.view.Activities[0], g1.view.Activities[1]
	orig := evidencetest.Scene(1, 800, 600)
	upload := func(g *testGrant, a workflow.Activity, data []byte) int64 {
		t.Helper()
		obj, err := bg.Ingest(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		fv, err := bg.AddActivityEvidence(ctx, g.treasurer, g.id, a.ID, "photo", &obj)
		if err != nil {
			t.Fatal(err)
		}
		return fv.ID
	}
	first := upload(g1, s1, evidencetest.WithExif(t, evidencetest.EncodeJPEG(t, orig, 90),
		evidencetest.Exif{Taken: day(s1.PlannedOn, 10), Lat: -6.595038, Lon: 106.816635}))
	resized := upload(g1, s2, evidencetest.EncodeJPEG(t, evidencetest.Resized(orig, 320, 240), 85))
	sameRoom := upload(g1, g1.view.Activities[2], evidencetest.EncodeJPEG(t, evidencetest.Scene(2, 800, 600), 90))
	crop := upload(g2, g2.view.Activities[0], evidencetest.EncodeJPEG(t, evidencetest.Resized(evidencetest.Cropped(orig, 0.05), 400, 285), 40))
	late := upload(g2, g2.view.Activities[1], evidencetest.WithExif(t, evidencetest.EncodeJPEG(t, evidencetest.Scene(3, 800, 600), 90),
		evidencetest.Exif{Taken: day(g2.view.Activities[1].PlannedOn.AddDays(10), 23), Offset: "+07:00"}))

	photos := func(g *testGrant, want int) map[int64]grants.PhotoView {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ps, err := bg.Photos(ctx, f.verifier, g.id)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == want {
				out := map[int64]grants.PhotoView{}
				for _, p := range ps {
					out[p.EvidenceID] = p
				}
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("grant %d: %d photos with facts, want %d", g.id, len(ps), want)
			}
		}
	}
	// Wait for both grants first: a flag needs both photos' facts.
	photos(g2, 2)
	p1, p2 := photos(g1, 3), photos(g2, 2)

	reusedWith := func(p grants.PhotoView) map[int64]map[string]any {
		out := map[int64]map[string]any{}
		for _, fl := range p.Flags {
			if fl.Code == "photo_reused" {
				out[fl.Facts["other_evidence_id"].(int64)] = fl.Facts
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		p     grants.PhotoView
		other []int64
	}{
		{"original", p1[first], []int64{resized, crop}},
		{"resized copy, other session", p1[resized], []int64{first, crop}},
		{"cropped and recompressed, other group", p2[crop], []int64{first, resized}},
		{"other photo of the same room", p1[sameRoom], nil},
		{"late photo", p2[late], nil},
	} {
		got := reusedWith(tc.p)
		if len(got) != len(tc.other) {
			t.Errorf("%s: reused with %v, want %v", tc.name, got, tc.other)
			continue
		}
		for _, o := range tc.other {
			if _, ok := got[o]; !ok {
				t.Errorf("%s: not flagged as reused with evidence %d (flags %v)", tc.name, o, tc.p.Flags)
			}
		}
	}
	// Both sides are named: the other grant's number and group.
	if fx := reusedWith(p1[first])[crop]; fx["other_grant_id"] != g2.id || fx["other_number"] != g2.view.Number ||
		fx["other_group_name"] == "" || fx["distance_bits"].(int) > 10 {
		t.Errorf("facts of the reuse across groups: %v", fx)
	}

	// EXIF read from the original (the preview drops it).
	a := p1[first]
	wantTaken := time.Date(s1.PlannedOn.Time().Year(), s1.PlannedOn.Time().Month(), s1.PlannedOn.Time().Day(), 3, 0, 0, 0, time.UTC)
	if a.TakenAt == nil || !a.TakenAt.Equal(wantTaken) || a.TakenZoned {
		t.Errorf("taken_at %v (zoned %v), want %v read as WIB", a.TakenAt, a.TakenZoned, wantTaken)
	}
	if a.Latitude == nil || math.Abs(*a.Latitude+6.595038) > 1e-5 || math.Abs(*a.Longitude-106.816635) > 1e-5 {
		t.Errorf("position %v,%v", a.Latitude, a.Longitude)
	}
	if p1[resized].TakenAt != nil || p1[resized].Latitude != nil {
		t.Errorf("a photo without EXIF has facts %+v", p1[resized])
	}

	// Taken 23:00 WIB ten days after its session: flagged; the first photo,
	// taken on its session's day, is not.
	var mismatch map[string]any
	for _, fl := range p2[late].Flags {
		if fl.Code == "photo_date_mismatch" {
			mismatch = fl.Facts
		}
	}
	if mismatch == nil || mismatch["days_between"] != 10 || mismatch["session_on"] != g2.view.Activities[1].PlannedOn {
		t.Errorf("photo_date_mismatch of the late photo: %v (flags %v)", mismatch, p2[late].Flags)
	}
	for _, fl := range p1[first].Flags {
		if fl.Code == "photo_date_mismatch" {
			t.Errorf("photo taken on its session's day flagged: %v", fl.Facts)
		}
	}

	// Staff only: the treasurer may not read where phones were.
	if _, err := bg.Photos(ctx, g1.treasurer, g1.id); workflow.ErrorCode(err) != workflow.EForbidden {
		t.Errorf("treasurer reading photo facts: %v, want forbidden", err)
	}
}
