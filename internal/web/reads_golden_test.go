package web

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

var updateReads = flag.Bool("update-reads", false, "rewrite testdata/reads/*.json from the current read paths")

// seedDemo fills the harness's database with the demo through its service
// and returns the demo password. The demo seeder is the one place this test
// names; when it moves package only this function changes.
func seedDemo(t *testing.T, h *harness) string {
	t.Helper()
	if err := demo.Seed(context.Background(), h.svc, io.Discard); err != nil {
		t.Fatalf("demo.Seed: %v", err)
	}
	return demo.Password
}

// The JSON of the rewritten reads (one statement each) is, field for field,
// what the read paths answered before the rewrite: the files under
// testdata/reads were written by the old code (-update-reads) for the demo
// grants, seen by people of every kind of scope. Times stamped by the wall
// clock are normalised, nothing else.
func TestReadsGolden(t *testing.T) {
	h := newHarnessOn(t, pgtest.New(t), Options{})
	password := seedDemo(t, h)
	login := func(email string) string {
		r := h.do("POST", "/api/v1/session", "", map[string]string{"email": email, "password": password})
		expect(t, r, http.StatusCreated, "login "+email)
		var out struct {
			Token string `json:"token"`
		}
		r.decode(t, &out)
		return out.Token
	}
	who := map[string]string{}
	for _, name := range []string{"admin", "verifikator", "auditor", "penyetuju", "keuangan", "ketua1", "ketua9", "bendahara9", "ketua8"} {
		who[name] = login(name + "@demo.grantflow.id")
	}
	who["verifier_out"] = h.token("verifier_out") // a province with no demo group: empty lists, 404s

	var all struct {
		Items []struct {
			ID    int64          `json:"id"`
			State workflow.State `json:"state"`
		} `json:"items"`
	}
	r := h.do("GET", "/api/v1/grants", who["admin"], nil)
	expect(t, r, 200, "list as admin")
	r.decode(t, &all)
	if len(all.Items) != 9 {
		t.Fatalf("demo grants: %d, want 9", len(all.Items))
	}
	var funded int64
	paths := []string{
		"/api/v1/grants", "/api/v1/grants?state=funded", "/api/v1/grants?province=Jawa%20Barat",
		"/api/v1/grants?flag=report_overdue", "/api/v1/grants?state=draft",
	}
	for _, g := range all.Items {
		paths = append(paths, fmt.Sprintf("/api/v1/grants/%d", g.ID))
		if g.State == workflow.Funded {
			funded = g.ID
		}
	}
	for _, sub := range []string{"expenses", "ledger"} {
		paths = append(paths, fmt.Sprintf("/api/v1/grants/%d/%s", funded, sub))
	}

	names := make([]string, 0, len(who))
	for n := range who {
		names = append(names, n)
	}
	sort.Strings(names)
	got := map[string]any{}
	for _, path := range paths {
		for _, n := range names {
			r := h.do("GET", path, who[n], nil)
			var body any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("GET %s as %s: %d %s", path, n, r.status, truncate(r.body))
			}
			got[fmt.Sprintf("%s as %s", path, n)] = map[string]any{"status": r.status, "body": normaliseRead(body)}
		}
	}
	if funded == 0 {
		t.Fatal("the demo has no funded grant")
	}
	checkGolden(t, filepath.Join("testdata", "reads", "demo.json"), got)

	t.Run("pages", func(t *testing.T) { checkPages(t, h, who["admin"], len(all.Items)) })
}

// checkPages walks GET /grants in pages of 4 with limit and cursor: the
// pages together are the unpaged list in its order, each says how many
// grants match in all (total), only the last has no next_cursor, and a bad
// limit or cursor is a 400 naming the parameter.
func checkPages(t *testing.T, h *harness, token string, n int) {
	var whole struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	h.do("GET", "/api/v1/grants", token, nil).decode(t, &whole)
	var ids []int64
	cursor := ""
	for pages := 1; ; pages++ {
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			Total      int    `json:"total"`
			NextCursor string `json:"next_cursor"`
		}
		r := h.do("GET", "/api/v1/grants?limit=4"+cursor, token, nil)
		expect(t, r, 200, "page")
		r.decode(t, &page)
		if page.Total != n || len(page.Items) > 4 || len(page.Items) == 0 {
			t.Fatalf("page %d: %d items, total %d", pages, len(page.Items), page.Total)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == "" {
			break
		}
		if pages > n {
			t.Fatal("the pages do not end")
		}
		cursor = "&cursor=" + page.NextCursor
	}
	if len(ids) != n || len(whole.Items) != n {
		t.Fatalf("paged %d grants, unpaged %d, want %d", len(ids), len(whole.Items), n)
	}
	for i, it := range whole.Items {
		if ids[i] != it.ID {
			t.Fatalf("paged order %v differs from the list at %d", ids, i)
		}
	}
	for _, q := range []struct{ query, field string }{{"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=x", "limit"}, {"cursor=-1", "cursor"}} {
		e := expect(t, h.do("GET", "/api/v1/grants?"+q.query, token, nil), 400, q.query)
		if !e.hasField(q.field) {
			t.Errorf("%s: details %v, want %s", q.query, e.Details, q.field)
		}
	}
}

// normaliseRead replaces what the wall clock stamps (the *_at times, and
// the Jakarta calendar day of today, which a void's ledger line carries)
// so that the golden file does not change from run to run.
func normaliseRead(v any) any {
	today := time.Now().In(workflow.Jakarta).Format("2006-01-02")
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(k, e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(key, e)
			}
		case string:
			if strings.HasSuffix(key, "_at") && x != "" {
				return "<time>"
			}
			if x == today {
				return "<today>"
			}
		}
		return v
	}
	return walk("", v)
}

// checkGolden compares got with the JSON file at path, or writes the file
// with -update-reads. A difference names the first requests that differ.
func checkGolden(t *testing.T, path string, got map[string]any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *updateReads {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update-reads)", err)
	}
	if bytes.Equal(bytes.TrimSpace(want), b) {
		return
	}
	var old map[string]any
	if err := json.Unmarshal(want, &old); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(old[k])
		if !bytes.Equal(g, w) {
			t.Errorf("GET %s differs from the golden answer:\n got  %s\n want %s", k, truncate(g), truncate(w))
			if bad++; bad == 5 {
				break
			}
		}
	}
	if len(old) != len(got) {
		t.Errorf("%d answers, golden file has %d", len(got), len(old))
	}
	if bad == 0 && len(old) == len(got) {
		t.Errorf("golden file %s differs in layout only; rewrite it with -update-reads", path)
	}
}
