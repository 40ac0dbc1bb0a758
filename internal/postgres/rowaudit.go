package postgres

import "context"

// RowProblem is a money or evidence row that disagrees with the event that
// recorded it: changed, added or removed behind the database's triggers.
type RowProblem struct {
	Table   string `json:"tbl"`
	ID      int64  `json:"id"`
	GrantID int64  `json:"grant_id"`
	Reason  string `json:"reason"`
}

// MoneyRowProblems checks every disbursement, expense (and its void), refund
// and evidence row against its own row_sha256 (recomputed over the columns
// set at creation) and against the hash its creating event carries; every
// session realisation (with its attendees) and cancellation against the
// facts its event records; and every event that names a row against that
// row's existence. Events recorded before rows carried hashes are checked
// for the row's existence only.
func (q q) MoneyRowProblems(ctx context.Context) ([]RowProblem, error) {
	const query = `
WITH ev AS (SELECT grant_id, action, data FROM grant_events)
SELECT 'disbursements' AS tbl, d.id, d.grant_id, CASE
		WHEN d.row_sha256 IS NULL THEN 'baris tanpa hash: ditambahkan di luar aplikasi'
		WHEN d.row_sha256 <> disbursement_row_sha256(d) THEN 'isi baris berubah sejak dicatat'
		WHEN e.data IS NULL THEN 'tidak ada peristiwa yang mencatat baris ini'
		ELSE 'hash baris tidak sama dengan peristiwa yang mencatatnya' END AS reason
	FROM disbursements d LEFT JOIN ev e ON e.grant_id = d.grant_id AND e.action = 'disburse' AND e.data->>'disbursement_id' = d.id::text
	WHERE d.row_sha256 IS NULL OR d.row_sha256 <> disbursement_row_sha256(d) OR e.data IS NULL OR e.data->>'row_sha256' <> d.row_sha256
UNION ALL
SELECT 'expenses', x.id, x.grant_id, CASE
		WHEN x.row_sha256 IS NULL THEN 'baris tanpa hash: ditambahkan di luar aplikasi'
		WHEN x.row_sha256 <> expense_row_sha256(x) THEN 'isi baris berubah sejak dicatat'
		WHEN e.data IS NULL THEN 'tidak ada peristiwa yang mencatat baris ini'
		WHEN e.data->>'row_sha256' <> x.row_sha256 THEN 'hash baris tidak sama dengan peristiwa yang mencatatnya'
		WHEN x.voided_at IS NOT NULL AND v.data IS NULL THEN 'dibatalkan tanpa peristiwa pembatalan'
		WHEN x.voided_at IS NULL AND v.data IS NOT NULL THEN 'pembatalan yang tercatat hilang dari baris'
		ELSE 'kolom pembatalan tidak sama dengan peristiwa pembatalan' END
	FROM expenses x
	LEFT JOIN ev e ON e.grant_id = x.grant_id AND e.action = 'record_expense' AND e.data->>'expense_id' = x.id::text
	LEFT JOIN ev v ON v.grant_id = x.grant_id AND v.action = 'void_expense' AND v.data->>'expense_id' = x.id::text
	WHERE x.row_sha256 IS NULL OR x.row_sha256 <> expense_row_sha256(x) OR e.data IS NULL
		OR e.data->>'row_sha256' <> x.row_sha256
		OR (x.voided_at IS NOT NULL) <> (v.data IS NOT NULL)
		OR v.data->>'void_sha256' IS DISTINCT FROM expense_void_sha256(x) AND v.data ? 'void_sha256'
UNION ALL
SELECT 'refunds', r.id, r.grant_id, CASE
		WHEN r.row_sha256 IS NULL THEN 'baris tanpa hash: ditambahkan di luar aplikasi'
		WHEN r.row_sha256 <> refund_row_sha256(r) THEN 'isi baris berubah sejak dicatat'
		WHEN e.data IS NULL THEN 'tidak ada peristiwa yang mencatat baris ini'
		ELSE 'hash baris tidak sama dengan peristiwa yang mencatatnya' END
	FROM refunds r LEFT JOIN ev e ON e.grant_id = r.grant_id AND e.action = 'record_refund' AND e.data->>'refund_id' = r.id::text
	WHERE r.row_sha256 IS NULL OR r.row_sha256 <> refund_row_sha256(r) OR e.data IS NULL OR e.data->>'row_sha256' <> r.row_sha256
UNION ALL
SELECT 'evidence', f.id, f.grant_id, CASE
		WHEN f.row_sha256 IS NULL THEN 'baris tanpa hash: ditambahkan di luar aplikasi'
		ELSE 'isi baris berubah sejak dicatat' END
	FROM evidence f WHERE f.row_sha256 IS NULL OR f.row_sha256 <> evidence_row_sha256(f)
UNION ALL
SELECT 'activity_realizations', r.id, r.grant_id, CASE
		WHEN e.data IS NULL THEN 'tidak ada peristiwa yang mencatat baris ini'
		WHEN a.ids IS DISTINCT FROM e.data->'attendee_ids' THEN 'daftar hadir tidak sama dengan peristiwa yang mencatatnya'
		ELSE 'isi baris tidak sama dengan peristiwa yang mencatatnya' END
	FROM activity_realizations r
	LEFT JOIN grant_events e ON e.id = r.event_id AND e.grant_id = r.grant_id AND e.action IN ('realize_activity', 'correct_realization')
	CROSS JOIN LATERAL (SELECT COALESCE(jsonb_agg(member_id ORDER BY member_id), '[]') AS ids
		FROM activity_attendees WHERE realization_id = r.id) a
	WHERE e.data IS NULL OR a.ids IS DISTINCT FROM e.data->'attendee_ids'
		OR e.data->>'activity_id' IS DISTINCT FROM r.activity_id::text OR e.data->>'version' IS DISTINCT FROM r.version::text
		OR e.data->>'held_on' IS DISTINCT FROM to_char(r.held_on, 'YYYY-MM-DD') OR e.data->>'hours' IS DISTINCT FROM r.hours::text
		OR e.data->>'location' IS DISTINCT FROM r.location OR e.data->>'facilitator' IS DISTINCT FROM r.facilitator
		OR e.data->>'summary' IS DISTINCT FROM r.summary OR e.data->>'outputs' IS DISTINCT FROM r.outputs
UNION ALL
SELECT 'activity_cancellations', c.activity_id, c.grant_id, CASE
		WHEN e.id IS NULL THEN 'tidak ada peristiwa yang mencatat baris ini'
		ELSE 'isi baris tidak sama dengan peristiwa yang mencatatnya' END
	FROM activity_cancellations c
	LEFT JOIN grant_events e ON e.id = c.event_id AND e.grant_id = c.grant_id AND e.action = 'cancel_activity'
	WHERE e.id IS NULL OR e.data->>'activity_id' IS DISTINCT FROM c.activity_id::text OR e.comment IS DISTINCT FROM c.reason
UNION ALL
SELECT CASE WHEN e.action = 'cancel_activity' THEN 'activity_cancellations' ELSE 'activity_realizations' END,
		(e.data->>'activity_id')::bigint, e.grant_id, 'baris yang dicatat peristiwa ' || e.action || ' hilang'
	FROM grant_events e
	WHERE e.action IN ('realize_activity', 'correct_realization') AND NOT EXISTS (SELECT 1 FROM activity_realizations r WHERE r.event_id = e.id)
		OR e.action = 'cancel_activity' AND NOT EXISTS (SELECT 1 FROM activity_cancellations c WHERE c.event_id = e.id)
UNION ALL
SELECT t.tbl, t.id, e.grant_id, 'baris yang dicatat peristiwa ' || e.action || ' hilang'
	FROM ev e CROSS JOIN LATERAL (VALUES
		('disbursements', e.data->>'disbursement_id', e.action = 'disburse'),
		('expenses', e.data->>'expense_id', e.action = 'record_expense'),
		('refunds', e.data->>'refund_id', e.action = 'record_refund'),
		('evidence', e.data->>'receipt_id', e.action = 'record_expense'),
		('evidence', e.data->>'proof_id', e.action = 'record_refund'),
		('evidence', e.data->>'evidence_id', e.action = 'add_evidence')) AS n (tbl, txt, applies)
	CROSS JOIN LATERAL (SELECT n.tbl, n.txt::bigint AS id) t
	WHERE n.applies AND n.txt IS NOT NULL AND NOT CASE n.tbl
		WHEN 'disbursements' THEN EXISTS (SELECT 1 FROM disbursements WHERE id = t.id)
		WHEN 'expenses' THEN EXISTS (SELECT 1 FROM expenses WHERE id = t.id)
		WHEN 'refunds' THEN EXISTS (SELECT 1 FROM refunds WHERE id = t.id)
		ELSE EXISTS (SELECT 1 FROM evidence WHERE id = t.id) END
ORDER BY 1, 2`
	out := []RowProblem{}
	err := q.x.SelectContext(ctx, &out, query)
	return out, mapErr(err)
}
