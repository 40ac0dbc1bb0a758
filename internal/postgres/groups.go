package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"grantflow/workflow"
)

const groupColumns = `id, kind, name, subject, level, province, regency, province_code, regency_code, sk_number, bank_name,
	bank_account_number, bank_account_name, npwp, remote, created_at`

func scanGroup(sc interface{ Scan(...any) error }) (workflow.Group, error) {
	var g workflow.Group
	err := sc.Scan(&g.ID, &g.Kind, &g.Name, &g.Subject, &g.Level, &g.Province, &g.Regency, &g.ProvinceCode, &g.RegencyCode, &g.SKNumber, &g.BankName,
		&g.BankAccountNumber, &g.BankAccountName, &g.NPWP, &g.Remote, &g.CreatedAt)
	return g, err
}

// CreateGroup inserts g and its members (already validated) and returns the
// group with the ids of the group and of every member.
func (tx *Tx) CreateGroup(ctx context.Context, g workflow.Group) (workflow.Group, error) {
	const query = `INSERT INTO groups (kind, name, subject, level, province, regency, province_code, regency_code, sk_number, bank_name,
		bank_account_number, bank_account_name, npwp, remote)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ` + groupColumns
	out, err := scanGroup(tx.x.QueryRowxContext(ctx, query, g.Kind, g.Name, g.Subject, g.Level, g.Province, g.Regency,
		g.ProvinceCode, g.RegencyCode, g.SKNumber, g.BankName, g.BankAccountNumber, g.BankAccountName, g.NPWP, g.Remote))
	if err != nil {
		return out, mapErr(err)
	}
	n := len(g.Members)
	seqs, names, simpatika, nips, madrasahs, positions := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, m := range g.Members {
		seqs[i], names[i], simpatika[i], nips[i], madrasahs[i], positions[i] = int64(i+1), m.Name, m.SimpatikaID, m.NIP, m.Madrasah, string(m.Position)
	}
	const members = `INSERT INTO members (group_id, seq, name, simpatika_id, nip, madrasah, position)
		SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
		RETURNING id`
	var ids []int64
	if err := tx.x.SelectContext(ctx, &ids, members, out.ID, pq.Array(seqs), pq.Array(names), pq.Array(simpatika),
		pq.Array(nips), pq.Array(madrasahs), pq.Array(positions)); err != nil {
		return out, mapErr(err)
	}
	out.Members = append([]workflow.Member(nil), g.Members...)
	for i := range out.Members {
		out.Members[i].ID = ids[i]
	}
	return out, nil
}

// GroupHeader returns a group without its members, or ENotFound: enough to
// check scope and to name the group.
func (q q) GroupHeader(ctx context.Context, id int64) (workflow.Group, error) {
	const query = `SELECT ` + groupColumns + ` FROM groups WHERE id = $1`
	g, err := scanGroup(q.x.QueryRowxContext(ctx, query, id))
	if err != nil {
		return g, notFound(err, "kelompok", id)
	}
	return g, nil
}

// Group returns a group with its members, or ENotFound.
func (q q) Group(ctx context.Context, id int64) (workflow.Group, error) {
	g, err := q.GroupHeader(ctx, id)
	if err != nil {
		return g, err
	}
	const members = `SELECT id, name, simpatika_id, nip, madrasah, position FROM members WHERE group_id = $1 ORDER BY seq`
	g.Members = []workflow.Member{}
	err = q.x.SelectContext(ctx, &g.Members, members, id)
	return g, mapErr(err)
}

// Scope narrows a listing to a region, by official codes ("32", "32.71");
// empty fields match everything.
type Scope struct {
	ProvinceCode string
	RegencyCode  string
	GroupID      int64 // > 0: only this group
}

// Groups returns the groups in scope without their members, by name.
func (q q) Groups(ctx context.Context, s Scope) ([]workflow.Group, error) {
	const query = `SELECT ` + groupColumns + ` FROM groups
		WHERE ($1 = '' OR province_code = $1) AND ($2 = '' OR regency_code = $2) AND ($3 = 0 OR id = $3)
		ORDER BY name, id`
	rows, err := q.x.QueryxContext(ctx, query, s.ProvinceCode, s.RegencyCode, s.GroupID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []workflow.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

// registryLock is the advisory lock key of group registration: two
// registrations of the same group at once would each find no duplicate, so
// the check and the insert run one at a time. Registrations are rare
// (an administrator or verifier typing a form), so one key for all kinds
// costs nothing and also covers SK numbers and accounts across kinds.
const registryLock = 7428020

// LockGroupRegistry takes the registration lock until the transaction ends.
func (tx *Tx) LockGroupRegistry(ctx context.Context) error {
	_, err := tx.x.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, registryLock)
	return mapErr(err)
}

// Repeat is an existing group a new one would register again, and by which
// key: "sk_number", "bank_account_number" or "members" (Shared of the new
// group's members already belong to it).
type Repeat struct {
	Group  workflow.Group // without members
	Field  string
	Shared int
}

// RepeatedGroup returns the first existing group that g repeats: the same SK
// number (spaces and case aside), the same bank account (digits only), or,
// of the same kind, sharing more than half of g's members or more than half
// of its own by NIP or SIMPATIKA id (a larger group that holds most of a
// smaller one repeats it too).
// ok is false when g repeats none. Call it under LockGroupRegistry.
func (tx *Tx) RepeatedGroup(ctx context.Context, g workflow.Group) (r Repeat, ok bool, err error) {
	// duplicate_of IS NULL lets the unique indexes of 0142 answer: a
	// legacy duplicate repeats a group this finds anyway.
	const byKey = `SELECT ` + groupColumns + `, 'sk_number', 0 FROM groups
			WHERE duplicate_of IS NULL AND upper(regexp_replace(sk_number, '\s', '', 'g')) = upper(regexp_replace($1, '\s', '', 'g'))
		UNION ALL
		SELECT ` + groupColumns + `, 'bank_account_number', 0 FROM groups
			WHERE duplicate_of IS NULL AND regexp_replace(bank_account_number, '\D', '', 'g') = regexp_replace($2, '\D', '', 'g')
		ORDER BY 1 LIMIT 1`
	row := tx.x.QueryRowxContext(ctx, byKey, g.SKNumber, g.BankAccountNumber)
	switch err := scanRepeat(row, &r); {
	case err == nil:
		return r, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return r, false, mapErr(err)
	}
	n := len(g.Members)
	nips, simpatika := make([]string, n), make([]string, n)
	for i, m := range g.Members {
		nips[i], simpatika[i] = m.NIP, m.SimpatikaID
	}
	// A member counts once however many of their ids match. The m.… <> ''
	// conditions let the partial indexes of 0142 serve the joins (without
	// them a registration scans every member: 64 ms at 150 000, not 2 ms).
	const byMembers = `WITH mine AS (
			SELECT x.nip, x.sim, x.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x (nip, sim, i)),
		hits AS (
			SELECT m.group_id, x.i FROM mine x JOIN members m ON m.nip <> '' AND m.nip = x.nip
			UNION
			SELECT m.group_id, x.i FROM mine x JOIN members m ON m.simpatika_id <> '' AND m.simpatika_id = x.sim),
		best AS (
			SELECT h.group_id, count(*) AS shared FROM hits h JOIN groups o ON o.id = h.group_id AND o.kind = $3
			GROUP BY h.group_id
			HAVING 2 * count(*) > $4 OR 2 * count(*) > (SELECT count(*) FROM members o WHERE o.group_id = h.group_id)
			ORDER BY 2 DESC, 1 LIMIT 1)
		SELECT ` + groupColumns + `, 'members', (SELECT shared FROM best) FROM groups WHERE id = (SELECT group_id FROM best)`
	row = tx.x.QueryRowxContext(ctx, byMembers, pq.Array(nips), pq.Array(simpatika), g.Kind, n)
	switch err := scanRepeat(row, &r); {
	case err == nil:
		return r, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return Repeat{}, false, nil
	default:
		return r, false, mapErr(err)
	}
}

// scanRepeat reads a group header, the key it repeats and, for the members
// rule, how many members it shares.
func scanRepeat(row *sqlx.Row, r *Repeat) error {
	g := &r.Group
	return row.Scan(&g.ID, &g.Kind, &g.Name, &g.Subject, &g.Level, &g.Province, &g.Regency, &g.ProvinceCode, &g.RegencyCode,
		&g.SKNumber, &g.BankName, &g.BankAccountNumber, &g.BankAccountName, &g.NPWP, &g.Remote, &g.CreatedAt, &r.Field, &r.Shared)
}
