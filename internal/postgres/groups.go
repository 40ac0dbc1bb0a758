package postgres

import (
	"context"

	"github.com/lib/pq"

	"grantflow/workflow"
)

const groupColumns = `id, kind, name, subject, level, province, regency, sk_number, bank_name,
	bank_account_number, bank_account_name, npwp, remote, created_at`

func scanGroup(sc interface{ Scan(...any) error }) (workflow.Group, error) {
	var g workflow.Group
	err := sc.Scan(&g.ID, &g.Kind, &g.Name, &g.Subject, &g.Level, &g.Province, &g.Regency, &g.SKNumber, &g.BankName,
		&g.BankAccountNumber, &g.BankAccountName, &g.NPWP, &g.Remote, &g.CreatedAt)
	return g, err
}

// CreateGroup inserts g and its members (already validated) and returns the
// group with the ids of the group and of every member.
func (tx *Tx) CreateGroup(ctx context.Context, g workflow.Group) (workflow.Group, error) {
	const query = `INSERT INTO groups (kind, name, subject, level, province, regency, sk_number, bank_name,
		bank_account_number, bank_account_name, npwp, remote)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ` + groupColumns
	out, err := scanGroup(tx.x.QueryRowxContext(ctx, query, g.Kind, g.Name, g.Subject, g.Level, g.Province, g.Regency,
		g.SKNumber, g.BankName, g.BankAccountNumber, g.BankAccountName, g.NPWP, g.Remote))
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

// Scope narrows a listing to a region; empty fields match everything.
type Scope struct {
	Province string
	Regency  string
	GroupID  int64 // > 0: only this group
}

// Groups returns the groups in scope without their members, by name.
func (q q) Groups(ctx context.Context, s Scope) ([]workflow.Group, error) {
	const query = `SELECT ` + groupColumns + ` FROM groups
		WHERE ($1 = '' OR province = $1) AND ($2 = '' OR regency = $2) AND ($3 = 0 OR id = $3)
		ORDER BY name, id`
	rows, err := q.x.QueryxContext(ctx, query, s.Province, s.Regency, s.GroupID)
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
