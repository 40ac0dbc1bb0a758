package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testEvent() Event {
	return Event{
		ID:        99, // not covered
		GrantID:   7,
		Seq:       3,
		Action:    "disburse",
		FromState: Approved,
		ToState:   Funded,
		ActorID:   22,
		ActorName: `Rina "Keuangan" <rina@example.id> & co`,
		ActorRole: RoleFinance,
		Comment:   "Termin 1 — SP2D",
		Data:      map[string]any{"tranche": 1, "amount": int64(8_400_000)},
		At:        time.Date(2026, 5, 2, 10, 4, 5, 123456000, time.FixedZone("WIB", 7*3600)),
		PrevHash:  "ignored",
		Hash:      "ignored",
	}
}

const wantCanonical = `{"action":"disburse","actor_id":22,"actor_name":"Rina \"Keuangan\" <rina@example.id> & co","actor_role":"finance",` +
	`"at":"2026-05-02T03:04:05.123456Z","comment":"Termin 1 — SP2D","data":{"amount":8400000,"tranche":1},` +
	`"from_state":"approved","grant_id":7,"seq":3,"to_state":"funded"}`

func TestCanonical(t *testing.T) {
	e := testEvent()
	if got := string(e.Canonical()); got != wantCanonical {
		t.Fatalf("canonical\n got %s\nwant %s", got, wantCanonical)
	}
	if !json.Valid(e.Canonical()) {
		t.Fatal("canonical is not JSON")
	}

	// The same event read back from the database: data decoded from JSONB
	// with UseNumber (or as float64 for small integers), times in UTC,
	// different ID and hashes.
	var back map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"tranche": 1, "amount": 8400000}`))
	dec.UseNumber()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	for _, data := range []map[string]any{
		back,
		{"tranche": int64(1), "amount": 8_400_000},
		{"amount": json.Number("8400000"), "tranche": float64(1)},
		{"tranche": int32(1), "amount": uint64(8_400_000)},
	} {
		f := testEvent()
		f.ID, f.PrevHash, f.Hash = 1, "", "x"
		f.At = f.At.UTC()
		f.Data = data
		if got := string(f.Canonical()); got != wantCanonical {
			t.Errorf("data %#v\n got %s", data, got)
		}
	}

	// nil and empty data are {}; nested objects are sorted too.
	f := testEvent()
	f.Data = nil
	g := testEvent()
	g.Data = map[string]any{}
	if string(f.Canonical()) != string(g.Canonical()) || !bytes.Contains(f.Canonical(), []byte(`"data":{}`)) {
		t.Errorf("nil data: %s", f.Canonical())
	}
	f.Data = map[string]any{"z": map[string]any{"b": 2, "a": []any{"x", map[string]int{"d": 1, "c": 2}}}, "a": nil}
	if !bytes.Contains(f.Canonical(), []byte(`"data":{"a":null,"z":{"a":["x",{"c":2,"d":1}],"b":2}}`)) {
		t.Errorf("nested data: %s", f.Canonical())
	}
	// Unencodable values do not panic and stay deterministic.
	f.Data = map[string]any{"f": func() {}, "n": 1}
	first, second := f.Canonical(), f.Canonical()
	if !bytes.Equal(first, second) || !json.Valid(first) {
		t.Errorf("unencodable: %s", f.Canonical())
	}
	// Zero time.
	var z Event
	if want := `{"action":"","actor_id":0,"actor_name":"","actor_role":"","at":"0001-01-01T00:00:00Z","comment":"","data":{},"from_state":"","grant_id":0,"seq":0,"to_state":""}`; string(z.Canonical()) != want {
		t.Errorf("zero event: %s", z.Canonical())
	}
}

func TestChainHash(t *testing.T) {
	c := []byte(wantCanonical)
	sum := sha256.Sum256(c)
	first := ChainHash("", c)
	if first != hex.EncodeToString(sum[:]) {
		t.Errorf("first hash %s", first)
	}
	// A fixed value (computed outside Go) guards the format against change.
	if first != "4f9f6948e4520e48f2aab80eb976f7759718d48022709cb634a7f8a2ca57b6d5" {
		t.Errorf("first hash %s changed", first)
	}
	second := ChainHash(first, c)
	sum2 := sha256.Sum256(append([]byte(first), c...))
	if second != hex.EncodeToString(sum2[:]) || second == first || len(second) != 64 {
		t.Errorf("second hash %s", second)
	}
	// Any change to the event changes the hash.
	e := testEvent()
	e.Comment += "."
	if ChainHash("", e.Canonical()) == first {
		t.Error("changed comment, same hash")
	}
}

func TestNewEvent(t *testing.T) {
	g := grantIn(Funded)
	a := actorWith(11, RoleTreasurer)
	now := time.Date(2026, 5, 2, 10, 4, 5, 123456789, time.FixedZone("WIB", 7*3600))
	e := NewEvent(g, "record_expense", a, RoleTreasurer, now, "  Belanja ATK ", map[string]any{"expense_id": int64(5)})
	want := Event{GrantID: testGrantID, Action: "record_expense", FromState: Funded, ToState: Funded, ActorID: 11, ActorName: a.Name,
		ActorRole: RoleTreasurer, Comment: "Belanja ATK", Data: map[string]any{"expense_id": int64(5)},
		At: time.Date(2026, 5, 2, 3, 4, 5, 123456000, time.UTC)}
	if e.At.Location() != time.UTC || !e.At.Equal(want.At) {
		t.Errorf("at %v", e.At)
	}
	e.At, want.At = time.Time{}, time.Time{}
	if e.GrantID != want.GrantID || e.Action != want.Action || e.FromState != want.FromState || e.ToState != want.ToState ||
		e.ActorID != want.ActorID || e.ActorName != want.ActorName || e.ActorRole != want.ActorRole || e.Comment != want.Comment ||
		e.Data["expense_id"] != int64(5) || e.Seq != 0 || e.Hash != "" || e.PrevHash != "" {
		t.Errorf("event %+v", e)
	}
}
