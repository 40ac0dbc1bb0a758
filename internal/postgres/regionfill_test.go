package postgres_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/migrations"
)

// Rows written before regions were stored by code (migration 0140) and
// before duplicates were refused (0142) get their codes and official names
// from the same matcher as the API (0141); what matches nothing keeps its
// text, without a code (groups) or with the code no group has (staff
// scopes), and the report lists it with the duplicates.
func TestRegionCodesMigration(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	name := pgtest.NewUnmigrated(t)
	raw, err := sql.Open("postgres", pgtest.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	old, err := goose.NewProvider(goose.DialectPostgres, raw, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.UpTo(ctx, 130); err != nil {
		t.Fatal(err)
	}

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	group := func(province, regency, sk, account string) int64 {
		t.Helper()
		var id int64
		err := raw.QueryRowContext(ctx, `INSERT INTO groups (kind, name, level, province, regency, sk_number, bank_name,
			bank_account_number, bank_account_name) VALUES ('KKG', 'KKG ' || $1 || ' ' || $2, 'MI', $1, $2, $3, 'BSI', $4, 'KKG')
			RETURNING id`, province, regency, sk, account).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	typed := group("jawa barat ", "kota bogor", "SK-1", "7100000001")
	short := group("JAWA BARAT", "Kab. Garut", "SK-2", "7100000002")
	atlantis := group("Atlantis", "Kota Atlantis", "SK-3", "7100000003")
	halfway := group("Jawa Barat", "Kota Atlantis", "SK-4", "7100000004")
	twice := group("Jawa Barat", "Kota Bogor", "sk - 1", "7100000005")   // SK-1 again
	account := group("Jawa Barat", "Kota Bogor", "SK-6", "710-000-0002") // account of short
	exec(`INSERT INTO users (email, name, password_hash, roles, province, regency) VALUES
		('a@uji.id', 'A', 'x', '{verifier}', 'jawa barat', 'KOTA BOGOR'),
		('b@uji.id', 'B', 'x', '{verifier}', 'Atlantis', ''),
		('c@uji.id', 'C', 'x', '{admin}', '', ''),
		('d@uji.id', 'D', 'x', '{verifier}', 'Jawa Barat', 'Kota Atlantis')`)
	exec(`INSERT INTO monitoring_status (group_id, program_id, status, since, kind, province, regency, funding_ended_on,
		days_silent, scanned_on, scanned_at) VALUES ($1, 1, 'dormant', '2026-01-01', 'KKG', 'jawa barat ', 'kota bogor',
		'2025-12-01', 120, '2026-04-01', now())`, typed)
	exec(`INSERT INTO monitoring_cohorts (program_id, kind, province, regency, months, eligible, active)
		VALUES (1, 'KKG', 'jawa barat ', 'kota bogor', 1, 1, 1)`)

	db, err := postgres.Open(context.Background(), pgtest.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("ready after migrating: %v", err)
	}

	type row struct{ province, regency, provinceCode, regencyCode string }
	read := func(q string, id any) row {
		t.Helper()
		var r row
		if err := raw.QueryRowContext(ctx, q, id).Scan(&r.province, &r.regency, &r.provinceCode, &r.regencyCode); err != nil {
			t.Fatal(err)
		}
		return r
	}
	groupRow := func(id int64) row {
		return read(`SELECT province, regency, province_code, regency_code FROM groups WHERE id = $1`, id)
	}
	for id, want := range map[int64]row{
		typed:    {"Jawa Barat", "Kota Bogor", "32", "32.71"},
		short:    {"Jawa Barat", "Kabupaten Garut", "32", "32.05"},
		atlantis: {"Atlantis", "Kota Atlantis", "", ""},
		halfway:  {"Jawa Barat", "Kota Atlantis", "", ""}, // whole or not at all
		twice:    {"Jawa Barat", "Kota Bogor", "32", "32.71"},
	} {
		if got := groupRow(id); got != want {
			t.Errorf("group %d: %+v, want %+v", id, got, want)
		}
	}
	userRow := func(email string) row {
		return read(`SELECT province, regency, province_code, regency_code FROM users WHERE email = $1`, email)
	}
	for email, want := range map[string]row{
		"a@uji.id": {"Jawa Barat", "Kota Bogor", "32", "32.71"},
		"b@uji.id": {"Atlantis", "", "?", ""},
		"c@uji.id": {"", "", "", ""},
		"d@uji.id": {"Jawa Barat", "Kota Atlantis", "32", "?"},
	} {
		if got := userRow(email); got != want {
			t.Errorf("user %s: %+v, want %+v", email, got, want)
		}
	}
	if got := read(`SELECT province, regency, province_code, regency_code FROM monitoring_status WHERE group_id = $1`, typed); got != (row{"Jawa Barat", "Kota Bogor", "32", "32.71"}) {
		t.Errorf("monitoring status %+v", got)
	}
	if got := read(`SELECT province, regency, province_code, regency_code FROM monitoring_cohorts WHERE program_id = $1`, 1); got != (row{"jawa barat ", "kota bogor", "32", "32.71"}) {
		t.Errorf("cohort %+v (codes now, names at the next scan)", got)
	}

	// Duplicates kept, pointing at the group they repeat.
	for id, want := range map[int64]int64{twice: typed, account: short, typed: 0} {
		var got sql.NullInt64
		if err := raw.QueryRowContext(ctx, `SELECT duplicate_of FROM groups WHERE id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.Int64 != want {
			t.Errorf("group %d duplicate_of %v, want %d", id, got, want)
		}
	}

	report, err := db.MigrationReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []string{`kelompok 3 "KKG Atlantis Kota Atlantis"`, `kelompok 4 "KKG Jawa Barat Kota Atlantis"`,
		"pengguna", "<b@uji.id>", "<d@uji.id>", "kelompok 5", "sama dengan kelompok 1", "kelompok 6", "sama dengan kelompok 2"}
	all := strings.Join(report, "\n")
	for _, w := range wantLines {
		if !strings.Contains(all, w) {
			t.Errorf("report lacks %q:\n%s", w, all)
		}
	}
	if len(report) != 6 || slices.ContainsFunc(report, func(l string) bool { return strings.Contains(l, "a@uji.id") }) {
		t.Errorf("report has %d lines, want 6:\n%s", len(report), all)
	}

	// New rows must carry codes; a new duplicate SK is refused by the index.
	if _, err := raw.ExecContext(ctx, `INSERT INTO groups (kind, name, level, province, regency, sk_number, bank_name,
		bank_account_number, bank_account_name) VALUES ('KKG', 'X', 'MI', 'Jawa Barat', 'Kota Bogor', 'SK-9', 'BSI', '7100000009', 'KKG')`); err == nil {
		t.Error("a group without codes was stored")
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO groups (kind, name, level, province, regency, province_code, regency_code, sk_number,
		bank_name, bank_account_number, bank_account_name) VALUES ('KKG', 'X', 'MI', 'Jawa Barat', 'Kota Bogor', '32', '32.71', ' sk-1', 'BSI', '7100000019', 'KKG')`); err == nil {
		t.Error("a second group with SK-1 was stored")
	}
}
