package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"grantflow/regions"
)

// regionFillVersion is the Go migration that follows 0140_add_region_codes:
// it gives the rows written before it their official codes and names, using
// the same matcher (regions.Find) as the API, which SQL alone could not
// repeat (short forms, "Kab."/"Kota" prefixes, aliases).
const regionFillVersion = 141

// goMigrations are the migrations written in Go, run in version order
// between the SQL files.
func goMigrations() []*goose.Migration {
	return []*goose.Migration{goose.NewGoMigration(regionFillVersion, &goose.GoFunc{RunTx: fillRegionCodes}, nil)}
}

// legacyScope is the code given to a staff scope whose text named no
// official region: no group has it, so that person sees no group (rather
// than every group, which "" would mean) until given a scope from the list.
const legacyScope = "?"

// fillRegionCodes matches the distinct (province, regency) texts of groups,
// users and the monitoring copies against the official list. What matches
// gets its codes and the official names; what does not keeps its text:
// a group gets no code (only unscoped staff see it), a staff scope gets
// legacyScope for what did not match. MigrationReport lists both.
func fillRegionCodes(ctx context.Context, tx *sql.Tx) error {
	type pair struct{ province, regency string }
	pairs := func(query string) ([]pair, error) {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []pair
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.province, &p.regency); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, rows.Err()
	}
	exec := func(query string, args ...any) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	}

	groups, err := pairs(`SELECT DISTINCT province, regency FROM groups WHERE province_code = ''`)
	if err != nil {
		return err
	}
	for _, p := range groups {
		// A group's region matches whole or not at all (groups_region_coded):
		// a regency the province lacks leaves the row as it was.
		prov, reg, err := regions.Find(p.province, p.regency)
		if err != nil || reg.Code == "" {
			continue // no code: listed by MigrationReport
		}
		if err := exec(`UPDATE groups SET province = $3, regency = $4, province_code = $5, regency_code = $6
			WHERE province_code = '' AND province = $1 AND regency = $2`,
			p.province, p.regency, prov.Name, reg.Name, prov.Code, reg.Code); err != nil {
			return fmt.Errorf("groups %q/%q: %w", p.province, p.regency, err)
		}
		// Cohorts are keyed by the names the last scan saw; they get the
		// codes now (scope filters read them) and the names at the next scan.
		if err := exec(`UPDATE monitoring_cohorts SET province_code = $3, regency_code = $4 WHERE province = $1 AND regency = $2`,
			p.province, p.regency, prov.Code, reg.Code); err != nil {
			return err
		}
	}
	if err := exec(`UPDATE monitoring_status s SET province = g.province, regency = g.regency,
		province_code = g.province_code, regency_code = g.regency_code FROM groups g WHERE g.id = s.group_id`); err != nil {
		return err
	}

	users, err := pairs(`SELECT DISTINCT province, regency FROM users WHERE province <> '' AND province_code = ''`)
	if err != nil {
		return err
	}
	for _, p := range users {
		provName, regName := p.province, p.regency
		provCode, regCode := legacyScope, ""
		if prov, err := regions.FindProvince(p.province); err == nil {
			provName, provCode = prov.Name, prov.Code
			if strings.TrimSpace(p.regency) != "" {
				regCode = legacyScope
				if reg, err := regions.FindRegency(prov.Code, p.regency); err == nil {
					regName, regCode = reg.Name, reg.Code
				}
			}
		} else if strings.TrimSpace(p.regency) != "" {
			regCode = legacyScope
		}
		if err := exec(`UPDATE users SET province = $3, regency = $4, province_code = $5, regency_code = $6
			WHERE province_code = '' AND province = $1 AND regency = $2`,
			p.province, p.regency, provName, regName, provCode, regCode); err != nil {
			return fmt.Errorf("users %q/%q: %w", p.province, p.regency, err)
		}
	}
	return nil
}

// MigrationReport lists, one line each, what the migrations kept but could not
// put right by themselves: groups and staff scopes whose region names no
// official province or regency (0141), and groups registered twice before
// duplicates were refused (0142). An administrator fixes them by hand;
// `grantflow migrate` prints them.
func (db *DB) MigrationReport(ctx context.Context) ([]string, error) {
	const query = `SELECT format('kelompok %s "%s": wilayah "%s, %s" tidak ada dalam daftar Kemendagri; hanya staf tanpa cakupan wilayah yang melihatnya',
			id, name, regency, province)
		FROM groups WHERE province_code = '' OR regency_code = ''
	UNION ALL
	SELECT format('pengguna %s <%s>: cakupan "%s %s" tidak ada dalam daftar Kemendagri; ia tidak melihat kelompok mana pun sampai cakupannya diperbaiki',
			id, email, province, regency)
		FROM users WHERE province_code = '?' OR regency_code = '?'
	UNION ALL
	SELECT format('kelompok %s "%s" terdaftar dua kali: sama dengan kelompok %s', id, name, duplicate_of)
		FROM groups WHERE duplicate_of IS NOT NULL`
	var out []string
	err := db.db.SelectContext(ctx, &out, query)
	return out, mapErr(err)
}
