package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"grantflow/workflow"
)

// scanLock is the advisory lock key of the monitoring scan: one scan (and its
// reminders) at a time across every instance.
const scanLock = 7428010

// ScanResult counts what one scan saw and wrote.
type ScanResult struct {
	AsOf          workflow.Date `json:"as_of"`
	Monitored     int           `json:"monitored"`
	Active        int           `json:"active"`
	AtRisk        int           `json:"at_risk"`
	Dormant       int           `json:"dormant"`
	Changed       int           `json:"changed"`       // history rows opened by this scan
	Notifications int           `json:"notifications"` // reminders created by this scan
	Mails         int           `json:"mails"`         // e-mails queued by this scan
}

// ScanOptions tune a Scan.
type ScanOptions struct {
	// Wait for a scan that holds the lock; else return at once.
	Wait bool
	// Remind creates the reminders due as of the scan's day; off for a
	// recomputation of another day, whose reminders were due then, not now.
	Remind bool
	// Mail queues an e-mail beside every new reminder.
	Mail bool
}

// Scan computes every monitored group's status as of asOf, stores it with
// its history, the cohort figures and (o.Remind) the reminders, in one
// transaction under the scan's advisory lock. Without o.Wait it returns
// (zero, false, nil) at once when another scan holds the lock. Running it
// twice with the same date and data changes nothing.
func (db *DB) Scan(ctx context.Context, asOf workflow.Date, o ScanOptions) (ScanResult, bool, error) {
	res := ScanResult{AsOf: asOf}
	acquired := true
	err := db.InTx(ctx, func(tx *Tx) error {
		if o.Wait {
			if _, err := tx.x.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, scanLock); err != nil {
				return err
			}
		} else if err := tx.x.GetContext(ctx, &acquired, `SELECT pg_try_advisory_xact_lock($1)`, scanLock); err != nil || !acquired {
			return err
		}
		return tx.scan(ctx, asOf, o, &res)
	})
	return res, acquired, err
}

// fundingEnded lists every grant whose funding ended by $1 with its end
// date: the day it closed (in Jakarta) if closed, else the programme's
// activity end once passed. Grants never funded (or cancelled) are absent.
const fundingEnded = `
	SELECT g.id AS grant_id, g.group_id, g.program_id, p.at_risk_after_days, p.dormant_after_days, x.ended_on
	FROM grants g
	JOIN programs p ON p.id = g.program_id
	-- CASE runs the events lookup for closed grants only.
	CROSS JOIN LATERAL (SELECT COALESCE(CASE WHEN g.state = 'closed' THEN (
		SELECT CAST(max(e.at) AT TIME ZONE 'Asia/Jakarta' AS date) FROM grant_events e WHERE e.grant_id = g.id AND e.to_state = 'closed'
	) END, p.activity_ends_on) AS ended_on) x
	WHERE g.state IN ('funded', 'report_submitted', 'closed') AND x.ended_on <= CAST($1 AS date)`

// lastMeetingOn is the latest day on or before $D that group $G met: the
// rows of the group_meetings view (meetings no correction superseded, and
// the latest version of each held session), written as index probes so that
// a few groups cost a few lookups, not a pass over every meeting.
const lastMeetingOn = `GREATEST(
	(SELECT m.held_on FROM meetings m WHERE m.group_id = $G AND m.held_on <= $D
		AND NOT EXISTS (SELECT 1 FROM meetings c WHERE c.supersedes = m.id) ORDER BY m.held_on DESC LIMIT 1),
	(SELECT max(r.held_on) FROM grants g JOIN activity_realizations r ON r.grant_id = g.id
		WHERE g.group_id = $G AND r.held_on <= $D
		AND r.version = (SELECT max(v.version) FROM activity_realizations v WHERE v.activity_id = r.activity_id)))`

// lastMeeting returns lastMeetingOn for the group and day expressions given.
func lastMeeting(group, day string) string {
	return strings.NewReplacer("$G", group, "$D", day).Replace(lastMeetingOn)
}

// scan is one scan's statements. Besides one pass over the ended grants it
// reads and writes only what changed since the last scan: the facts of the
// grants whose group's meetings changed (monitoring_facts: the latest
// meeting and the cohort checkpoints, marked stale in monitoring_dirty by
// the recording transaction), and the status rows whose status, group or
// last meeting changed (monitoring_state keeps no per-day column).
func (tx *Tx) scan(ctx context.Context, asOf workflow.Date, o ScanOptions, res *ScanResult) error {
	// Large sorts and hashes stay in memory (the scan runs once an hour);
	// the temporary tables' statistics need only a small sample; and no
	// statement is compiled: the probes' estimated costs make PostgreSQL JIT
	// them, which took seconds for statements that run in milliseconds.
	const settings = `SET LOCAL work_mem = '64MB'; SET LOCAL default_statistics_target = 10; SET LOCAL jit = off`
	if _, err := tx.x.ExecContext(ctx, settings); err != nil {
		return err
	}
	// 1. The groups whose meetings changed since the last scan. A mark
	// committed after this statement stays for the next scan, which then
	// looks at that group again (at worst once too often, never stale).
	const dirty = `CREATE TEMP TABLE scan_dirty ON COMMIT DROP AS SELECT group_id FROM monitoring_dirty WITH NO DATA`
	if _, err := tx.x.ExecContext(ctx, dirty); err != nil {
		return err
	}
	const take = `WITH d AS (DELETE FROM monitoring_dirty RETURNING group_id) INSERT INTO scan_dirty SELECT DISTINCT group_id FROM d`
	if _, err := tx.x.ExecContext(ctx, take); err != nil {
		return err
	}
	// The facts of a marked group are dropped, not only recomputed below:
	// a scan of an earlier day recomputes only the grants ended by then, and
	// a later grant's facts, still matching its end and window, would
	// otherwise look fresh to the next scan with the mark gone. A missing
	// row is always computed again.
	const forget = `DELETE FROM monitoring_facts WHERE group_id IN (SELECT group_id FROM scan_dirty)`
	if _, err := tx.x.ExecContext(ctx, forget); err != nil {
		return err
	}
	// 2. The ended grants, each with its group's kind and region, its
	// cohort checkpoints (1, 3, 6, 12 months after the end), and its stored
	// facts, fresh unless missing, computed for another end or window, or
	// its group is marked.
	const grants = `CREATE TEMP TABLE scan_grants ON COMMIT DROP AS
		SELECT f.*, gr.kind, gr.province, gr.regency, gr.province_code, gr.regency_code, k.last_on, k.met1, k.met3, k.met6, k.met12,
			COALESCE(k.ended_on = f.ended_on AND k.window_days = f.at_risk_after_days
				AND f.group_id NOT IN (SELECT group_id FROM scan_dirty), false) AS fresh,
			CAST(f.ended_on + interval '1 month' AS date) AS c1, CAST(f.ended_on + interval '3 months' AS date) AS c3,
			CAST(f.ended_on + interval '6 months' AS date) AS c6, CAST(f.ended_on + interval '12 months' AS date) AS c12
		FROM (` + fundingEnded + `) f
		JOIN groups gr ON gr.id = f.group_id
		LEFT JOIN monitoring_facts k ON k.grant_id = f.grant_id`
	if _, err := tx.x.ExecContext(ctx, grants, asOf); err != nil {
		return err
	}
	// Temporary tables have no statistics until analysed: without them the
	// joins below would be planned as nested loops over 50 000 × 50 000 rows.
	if _, err := tx.x.ExecContext(ctx, `ANALYZE scan_grants`); err != nil {
		return err
	}
	// 3. The facts of the grants not fresh, looked up, stored and copied
	// into scan_grants: the latest meeting, and whether the group met in
	// the at-risk window before each checkpoint. A checkpoint still in the
	// future is computed too: a meeting recorded later marks its group, and
	// the flag is computed again then.
	refresh := `WITH found AS (
		INSERT INTO monitoring_facts AS k (grant_id, group_id, ended_on, window_days, last_on, met1, met3, met6, met12)
		SELECT t.grant_id, t.group_id, t.ended_on, t.at_risk_after_days, ` + lastMeeting("t.group_id", "CAST('infinity' AS date)") + `,
			COALESCE(` + lastMeeting("t.group_id", "t.c1") + ` > t.c1 - t.at_risk_after_days, false),
			COALESCE(` + lastMeeting("t.group_id", "t.c3") + ` > t.c3 - t.at_risk_after_days, false),
			COALESCE(` + lastMeeting("t.group_id", "t.c6") + ` > t.c6 - t.at_risk_after_days, false),
			COALESCE(` + lastMeeting("t.group_id", "t.c12") + ` > t.c12 - t.at_risk_after_days, false)
		FROM scan_grants t WHERE NOT t.fresh
		ON CONFLICT (grant_id) DO UPDATE SET group_id = EXCLUDED.group_id, ended_on = EXCLUDED.ended_on,
			window_days = EXCLUDED.window_days, last_on = EXCLUDED.last_on,
			met1 = EXCLUDED.met1, met3 = EXCLUDED.met3, met6 = EXCLUDED.met6, met12 = EXCLUDED.met12
		RETURNING grant_id, last_on, met1, met3, met6, met12
	)
	UPDATE scan_grants f SET last_on = n.last_on, met1 = n.met1, met3 = n.met3, met6 = n.met6, met12 = n.met12, fresh = true
	FROM found n WHERE f.grant_id = n.grant_id`
	if _, err := tx.x.ExecContext(ctx, refresh); err != nil {
		return err
	}
	// 4. Every monitored group's status as of $1, from its latest ended
	// grant, kept only where it differs from the stored row (or the group
	// is no longer monitored as of $1). Silence counts from its last meeting
	// or, when later, from the end of its funding.
	diff := `CREATE TEMP TABLE scan_diff ON COMMIT DROP AS
	WITH e AS (
		SELECT DISTINCT ON (f.group_id) f.* FROM scan_grants f ORDER BY f.group_id, f.ended_on DESC, f.grant_id DESC
	), last AS (
		-- A meeting after $1 (a scan of an earlier day) sends that group back to the meetings.
		SELECT e.*, CASE WHEN e.last_on IS NULL OR e.last_on <= CAST($1 AS date) THEN e.last_on
			ELSE ` + lastMeeting("e.group_id", "CAST($1 AS date)") + ` END AS last_by
		FROM e
	), computed AS (
		SELECT e.group_id, e.program_id, e.kind, e.province, e.regency, e.province_code, e.regency_code, e.ended_on, e.last_by AS last_on,
			CASE WHEN CAST($1 AS date) - r.ref >= e.dormant_after_days THEN 'dormant'
			     WHEN CAST($1 AS date) - r.ref >= e.at_risk_after_days THEN 'at_risk' ELSE 'active' END AS status,
			CASE WHEN CAST($1 AS date) - r.ref >= e.dormant_after_days THEN r.ref + e.dormant_after_days
			     WHEN CAST($1 AS date) - r.ref >= e.at_risk_after_days THEN r.ref + e.at_risk_after_days ELSE r.ref END AS since
		FROM last e CROSS JOIN LATERAL (SELECT GREATEST(e.ended_on, e.last_by) AS ref) r
	), changed AS MATERIALIZED (
		SELECT COALESCE(c.group_id, s.group_id) AS id, c.*, s.group_id IS NOT NULL AS stored
		FROM computed c FULL JOIN monitoring_state s ON s.group_id = c.group_id
		WHERE c.group_id IS NULL OR s.group_id IS NULL
			OR (c.program_id, c.status, c.kind, c.province, c.regency, c.province_code, c.regency_code, c.ended_on, c.last_on)
			IS DISTINCT FROM (s.program_id, s.status, s.kind, s.province, s.regency, s.province_code, s.regency_code, s.funding_ended_on, s.last_meeting_on)
	)
	SELECT x.*, h.status AS open_status, h.since AS open_since,
		CASE WHEN h.status = x.status THEN h.since ELSE GREATEST(x.since, h.since) END AS new_since
	FROM changed x LEFT JOIN monitoring_history h ON h.group_id = x.id AND h.until IS NULL`
	if _, err := tx.x.ExecContext(ctx, diff, asOf); err != nil {
		return err
	}
	// 5. History: close the open row of every group whose status changed
	// (or that is no longer monitored as of $1), then open the new ones.
	const closeChanged = `UPDATE monitoring_history h SET until = CASE WHEN n.status IS NULL THEN GREATEST(h.since, CAST($1 AS date))
			ELSE n.new_since END
		FROM scan_diff n WHERE h.group_id = n.id AND h.until IS NULL AND h.status IS DISTINCT FROM n.status`
	if _, err := tx.x.ExecContext(ctx, closeChanged, asOf); err != nil {
		return err
	}
	const open = `INSERT INTO monitoring_history (group_id, status, since, scanned_on)
		SELECT id, status, new_since, CAST($1 AS date) FROM scan_diff WHERE status IS NOT NULL AND open_status IS DISTINCT FROM status`
	r, err := tx.x.ExecContext(ctx, open, asOf)
	if err != nil {
		return err
	}
	changed, _ := r.RowsAffected()
	res.Changed = int(changed)
	// 6. The stored status: drop the groups no longer monitored, rewrite the
	// changed rows, add the new ones, and record the scan's day once.
	const gone = `DELETE FROM monitoring_state s USING scan_diff n WHERE s.group_id = n.id AND n.status IS NULL`
	if _, err := tx.x.ExecContext(ctx, gone); err != nil {
		return err
	}
	const update = `UPDATE monitoring_state s SET program_id = n.program_id, status = n.status, since = n.new_since,
			kind = n.kind, province = n.province, regency = n.regency, province_code = n.province_code, regency_code = n.regency_code,
			funding_ended_on = n.ended_on, last_meeting_on = n.last_on, changed_at = $1
		FROM scan_diff n WHERE s.group_id = n.id AND n.stored AND n.status IS NOT NULL`
	if _, err := tx.x.ExecContext(ctx, update, tx.now); err != nil {
		return err
	}
	const insert = `INSERT INTO monitoring_state (group_id, program_id, status, since, kind, province, regency, province_code, regency_code, funding_ended_on,
			last_meeting_on, changed_at)
		SELECT n.id, n.program_id, n.status, n.new_since, n.kind, n.province, n.regency, n.province_code, n.regency_code, n.ended_on, n.last_on, $1
		FROM scan_diff n WHERE NOT n.stored`
	if _, err := tx.x.ExecContext(ctx, insert, tx.now); err != nil {
		return err
	}
	const day = `INSERT INTO monitoring_scan (as_of, scanned_at) VALUES ($1, $2)
		ON CONFLICT (one) DO UPDATE SET as_of = EXCLUDED.as_of, scanned_at = EXCLUDED.scanned_at
		WHERE monitoring_scan.as_of <> EXCLUDED.as_of`
	if _, err := tx.x.ExecContext(ctx, day, asOf, tx.now); err != nil {
		return err
	}
	const counts = `SELECT count(*), count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'at_risk'),
		count(*) FILTER (WHERE status = 'dormant') FROM monitoring_state`
	if err := tx.x.QueryRowxContext(ctx, counts).Scan(&res.Monitored, &res.Active, &res.AtRisk, &res.Dormant); err != nil {
		return err
	}
	if err := tx.cohorts(ctx, asOf); err != nil {
		return err
	}
	if !o.Remind {
		return nil
	}
	return tx.remind(ctx, asOf, o.Mail, res)
}

// cohorts stores, per programme, kind and region, how many grants had
// passed 1, 3, 6 and 12 months since their funding ended by $1, and how
// many of those groups were active on that day: a meeting within the
// programme's at-risk window before it, the funding end counting as one.
func (tx *Tx) cohorts(ctx context.Context, asOf workflow.Date) error {
	// Grants no longer ended as of $1 keep their rows: a later scan day
	// counts them again without computing them again.
	// One pass over the grants counts all four checkpoints per cohort; the
	// few hundred cohort rows are then spread over the months.
	const computed = `CREATE TEMP TABLE scan_cohorts ON COMMIT DROP AS
	SELECT a.program_id, a.kind, a.province, a.regency, a.province_code, a.regency_code, n.months, n.eligible, n.active
	FROM (
		SELECT f.program_id, f.kind, f.province, f.regency, f.province_code, f.regency_code,
			count(*) AS e1, count(*) FILTER (WHERE f.met1 OR f.c1 - f.ended_on < f.at_risk_after_days) AS a1,
			count(*) FILTER (WHERE f.c3 <= CAST($1 AS date)) AS e3,
			count(*) FILTER (WHERE f.c3 <= CAST($1 AS date) AND (f.met3 OR f.c3 - f.ended_on < f.at_risk_after_days)) AS a3,
			count(*) FILTER (WHERE f.c6 <= CAST($1 AS date)) AS e6,
			count(*) FILTER (WHERE f.c6 <= CAST($1 AS date) AND (f.met6 OR f.c6 - f.ended_on < f.at_risk_after_days)) AS a6,
			count(*) FILTER (WHERE f.c12 <= CAST($1 AS date)) AS e12,
			count(*) FILTER (WHERE f.c12 <= CAST($1 AS date) AND (f.met12 OR f.c12 - f.ended_on < f.at_risk_after_days)) AS a12
		FROM scan_grants f WHERE f.c1 <= CAST($1 AS date)
		GROUP BY f.program_id, f.kind, f.province, f.regency, f.province_code, f.regency_code
	) a
	CROSS JOIN LATERAL (VALUES (1, a.e1, a.a1), (3, a.e3, a.a3), (6, a.e6, a.a6), (12, a.e12, a.a12)) n (months, eligible, active)
	WHERE n.eligible > 0`
	if _, err := tx.x.ExecContext(ctx, computed, asOf); err != nil {
		return err
	}
	const gone = `DELETE FROM monitoring_cohorts c WHERE NOT EXISTS (SELECT 1 FROM scan_cohorts n
		WHERE (n.program_id, n.kind, n.province, n.regency, n.months) = (c.program_id, c.kind, c.province, c.regency, c.months))`
	if _, err := tx.x.ExecContext(ctx, gone); err != nil {
		return err
	}
	const upsert = `INSERT INTO monitoring_cohorts AS c (program_id, kind, province, regency, province_code, regency_code, months, eligible, active)
		SELECT program_id, kind, province, regency, province_code, regency_code, months, eligible, active FROM scan_cohorts
		ON CONFLICT (program_id, kind, province, regency, months) DO UPDATE SET eligible = EXCLUDED.eligible, active = EXCLUDED.active
		WHERE (c.eligible, c.active) IS DISTINCT FROM (EXCLUDED.eligible, EXCLUDED.active)`
	_, err := tx.x.ExecContext(ctx, upsert)
	return err
}

// remind creates the reminders due as of CAST($1 AS date) — LPJ due in 14 days, due today
// and overdue (chair and treasurer of a funded grant), at risk (chair; also
// when a scan first finds the group already dormant),
// dormant (verifiers scoped to the group's province, and regency when they
// have one) — each once: its key is unique, so a later scan or another
// instance inserts nothing. With mail on, each new reminder gets its e-mail
// in the outbox in the same statement.
func (tx *Tx) remind(ctx context.Context, asOf workflow.Date, mail bool, res *ScanResult) error {
	const query = `WITH cand AS (
		SELECT u.id AS user_id, k.kind, k.kind || ':grant:' || gr.id || ':user:' || u.id AS key, gr.group_id, gr.id AS grant_id,
			CASE k.kind
			WHEN 'lpj_due_soon' THEN format('LPJ hibah %s (%s) jatuh tempo pada %s, %s hari lagi.', gr.number, g.name,
				to_char(p.report_due_on, 'YYYY-MM-DD'), p.report_due_on - CAST($1 AS date))
			WHEN 'lpj_due_today' THEN format('LPJ hibah %s (%s) jatuh tempo hari ini, %s.', gr.number, g.name, to_char(p.report_due_on, 'YYYY-MM-DD'))
			ELSE format('LPJ hibah %s (%s) terlambat: jatuh tempo %s.', gr.number, g.name, to_char(p.report_due_on, 'YYYY-MM-DD'))
			END AS text
		FROM grants gr
		JOIN programs p ON p.id = gr.program_id
		JOIN groups g ON g.id = gr.group_id
		CROSS JOIN LATERAL (SELECT CASE WHEN CAST($1 AS date) < p.report_due_on THEN 'lpj_due_soon'
			WHEN CAST($1 AS date) = p.report_due_on THEN 'lpj_due_today' ELSE 'lpj_overdue' END AS kind) k
		JOIN users u ON u.group_id = gr.group_id AND u.roles && ARRAY['chair', 'treasurer'] AND NOT u.disabled
		WHERE gr.state = 'funded' AND CAST($1 AS date) >= p.report_due_on - 14
	UNION ALL
		SELECT u.id, 'at_risk', 'at_risk:group:' || s.group_id || ':since:' || to_char(r.since, 'YYYY-MM-DD') || ':user:' || u.id,
			s.group_id, NULL,
			format('Kelompok %s belum mencatat pertemuan selama %s hari: statusnya %s. Catat pertemuan berikutnya.', g.name, s.days_silent,
				CASE s.status WHEN 'at_risk' THEN 'berisiko' ELSE 'tidak aktif' END)
		FROM monitoring_status s
		JOIN groups g ON g.id = s.group_id
		JOIN programs p ON p.id = s.program_id
		-- A group first seen dormant passed the at-risk day unseen (the
		-- first scan after a long silence): its chair is told once, under
		-- the key the at-risk episode would have had.
		CROSS JOIN LATERAL (SELECT CASE WHEN s.status = 'at_risk' THEN s.since
			ELSE s.since - (p.dormant_after_days - p.at_risk_after_days) END AS since) r
		JOIN users u ON u.group_id = s.group_id AND 'chair' = ANY (u.roles) AND NOT u.disabled
		WHERE s.status IN ('at_risk', 'dormant')
	UNION ALL
		SELECT u.id, 'dormant', 'dormant:group:' || s.group_id || ':since:' || to_char(s.since, 'YYYY-MM-DD') || ':user:' || u.id,
			s.group_id, NULL,
			format('Kelompok %s (%s, %s) tidak aktif: tidak ada pertemuan selama %s hari.', g.name, g.regency, g.province, s.days_silent)
		FROM monitoring_status s
		JOIN groups g ON g.id = s.group_id
		JOIN users u ON 'verifier' = ANY (u.roles) AND NOT u.disabled AND g.province_code <> ''
			AND u.province_code = g.province_code AND (u.regency_code = '' OR u.regency_code = g.regency_code)
		WHERE s.status = 'dormant'
	), ins AS (
		INSERT INTO notifications (user_id, kind, key, group_id, grant_id, text, created_at)
		SELECT user_id, kind, key, group_id, grant_id, text, $2 FROM cand
		ON CONFLICT (key) DO NOTHING
		RETURNING id, user_id, text
	), mail AS (
		INSERT INTO email_outbox (notification_id, to_address, subject, body, next_attempt_at, created_at)
		SELECT ins.id, u.email, 'Pengingat grantflow', ins.text, $2, $2
		FROM ins JOIN users u ON u.id = ins.user_id
		WHERE $3
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM mail)`
	return tx.x.QueryRowxContext(ctx, query, asOf, tx.now, mail).Scan(&res.Notifications, &res.Mails)
}

// MonitorFilter selects rows of the latest scan.
type MonitorFilter struct {
	Scope
	Status string
	// ProvinceCode and RegencyCode are official codes ("32", "32.71"); "" matches all.
	ProvinceCode string
	RegencyCode  string
	Kind         string
	Limit        int
	Offset       int
}

// MonitorRow is one group's stored status.
type MonitorRow struct {
	GroupID        int64         `json:"group_id"`
	GroupName      string        `json:"group_name"`
	Kind           string        `json:"kind"`
	Province       string        `json:"province"`
	Regency        string        `json:"regency"`
	ProvinceCode   string        `json:"province_code"`
	RegencyCode    string        `json:"regency_code"`
	ProgramID      int64         `json:"program_id"`
	FundingEndedOn workflow.Date `json:"funding_ended_on"`
	LastMeetingOn  workflow.Date `json:"last_meeting_on"`
	DaysSilent     int           `json:"days_silent"`
	Status         string        `json:"status"`
	StatusSince    workflow.Date `json:"status_since"`
	ScannedOn      workflow.Date `json:"scanned_on"`
}

// MonitorRows returns one page of the latest scan's rows matching f, most
// silent first, and the number of rows matching f.
func (q q) MonitorRows(ctx context.Context, f MonitorFilter) ([]MonitorRow, int, error) {
	const where = ` FROM monitoring_state s
		WHERE ($1 = '' OR s.province_code = $1) AND ($2 = '' OR s.regency_code = $2) AND ($3 = 0 OR s.group_id = $3)
		AND ($4 = '' OR s.status = $4) AND ($5 = '' OR s.province_code = $5) AND ($6 = '' OR s.regency_code = $6) AND ($7 = '' OR s.kind = $7)`
	args := []any{f.Scope.ProvinceCode, f.Scope.RegencyCode, f.Scope.GroupID, f.Status, f.ProvinceCode, f.RegencyCode, f.Kind}
	var total int
	if err := q.x.GetContext(ctx, &total, `SELECT count(*)`+where, args...); err != nil {
		return nil, 0, mapErr(err)
	}
	// The page first, most silent first: the index on silent_from serves it
	// (days silent are the scan's day minus silent_from), then the names of
	// its groups.
	const cols = `SELECT p.group_id, g.name AS group_name, p.kind, p.province, p.regency, p.province_code, p.regency_code, p.program_id, p.funding_ended_on,
		p.last_meeting_on, c.as_of - p.silent_from AS days_silent, p.status, p.since AS status_since, c.as_of AS scanned_on
		FROM (SELECT s.*`
	out := []MonitorRow{}
	err := q.x.SelectContext(ctx, &out, cols+where+` ORDER BY s.silent_from, s.group_id LIMIT $8 OFFSET $9) p
		JOIN groups g ON g.id = p.group_id CROSS JOIN monitoring_scan c ORDER BY p.silent_from, p.group_id`, append(args, f.Limit, f.Offset)...)
	return out, total, mapErr(err)
}

// SummaryCount is the number of groups of one status in one province or of one kind.
type SummaryCount struct {
	Status string `json:"status"`
	Key    string `json:"key"`
	Count  int    `json:"count"`
}

// MonitorSummary returns the latest scan's counts in scope by status ×
// province and by status × kind.
func (q q) MonitorSummary(ctx context.Context, s Scope) (byProvince, byKind []SummaryCount, err error) {
	const query = `SELECT s.status, CASE WHEN $4 THEN s.province ELSE s.kind END AS key, count(*) AS count
		FROM monitoring_state s
		WHERE ($1 = '' OR s.province_code = $1) AND ($2 = '' OR s.regency_code = $2) AND ($3 = 0 OR s.group_id = $3)
		GROUP BY 1, 2 ORDER BY 2, 1`
	byProvince, byKind = []SummaryCount{}, []SummaryCount{}
	if err := q.x.SelectContext(ctx, &byProvince, query, s.ProvinceCode, s.RegencyCode, s.GroupID, true); err != nil {
		return nil, nil, mapErr(err)
	}
	if err := q.x.SelectContext(ctx, &byKind, query, s.ProvinceCode, s.RegencyCode, s.GroupID, false); err != nil {
		return nil, nil, mapErr(err)
	}
	return byProvince, byKind, nil
}

// CohortRow is one cohort (programme, kind, province) at one checkpoint.
type CohortRow struct {
	ProgramID   int64  `json:"program_id"`
	ProgramName string `json:"program_name"`
	Kind        string `json:"kind"`
	Province    string `json:"province"`
	// ProvinceCode is the official code of Province ("" for a legacy name
	// that matched none).
	ProvinceCode string `json:"province_code"`
	Months       int    `json:"months"`
	Eligible     int    `json:"eligible"`
	Active       int    `json:"active"`
}

// Cohorts returns the latest scan's cohort figures in scope, summed over
// the regencies the scope covers.
func (q q) Cohorts(ctx context.Context, s Scope) ([]CohortRow, error) {
	const query = `SELECT c.program_id, p.name AS program_name, c.kind, c.province, c.province_code, c.months,
		CAST(sum(c.eligible) AS int) AS eligible, CAST(sum(c.active) AS int) AS active
		FROM monitoring_cohorts c JOIN programs p ON p.id = c.program_id
		WHERE ($1 = '' OR c.province_code = $1) AND ($2 = '' OR c.regency_code = $2) AND $3 = 0
		GROUP BY c.program_id, p.name, c.kind, c.province, c.province_code, c.months
		ORDER BY c.program_id, c.kind, c.province, c.months`
	out := []CohortRow{}
	err := q.x.SelectContext(ctx, &out, query, s.ProvinceCode, s.RegencyCode, s.GroupID)
	return out, mapErr(err)
}

// Notification is one reminder to one person.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	GroupID   *int64     `json:"group_id"`
	GrantID   *int64     `json:"grant_id"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// Notifications returns up to limit of userID's reminders, newest first.
func (q q) Notifications(ctx context.Context, userID int64, limit int) ([]Notification, error) {
	const query = `SELECT id, kind, group_id, grant_id, text, created_at, read_at FROM notifications
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`
	out := []Notification{}
	err := q.x.SelectContext(ctx, &out, query, userID, limit)
	return out, mapErr(err)
}

// MarkRead marks reminder id of userID read (the first time only) and
// returns it; another person's reminder answers ENotFound like a missing one.
func (tx *Tx) MarkRead(ctx context.Context, userID, id int64) (Notification, error) {
	const query = `UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2
		RETURNING id, kind, group_id, grant_id, text, created_at, read_at`
	var n Notification
	if err := tx.x.QueryRowxContext(ctx, query, id, userID, tx.now).StructScan(&n); err != nil {
		return n, notFound(err, "notifikasi", id)
	}
	return n, nil
}

// Mail is one e-mail of the outbox.
type Mail struct {
	ID        int64  `json:"id"`
	MessageID string `json:"message_id"` // stable per notification: receivers may drop a resent copy
	To        string `json:"to_address"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Attempts  int    `json:"attempts"`
}

// SendOne claims the oldest due unsent e-mail with FOR UPDATE SKIP LOCKED
// (so instances never take the same one), calls send with it while the row
// stays locked, and in the same transaction marks it sent, or, when send
// fails, counts the attempt and sets the next one after backoff(attempts).
// It reports whether there was an e-mail to send. If the process dies
// mid-send the transaction rolls back and the e-mail is due again at once:
// at least once, never lost (see the monitor package for the trade-off).
func (db *DB) SendOne(ctx context.Context, send func(Mail) error, backoff func(attempts int) time.Duration) (bool, error) {
	found := false
	err := db.InTx(ctx, func(tx *Tx) error {
		const claim = `SELECT o.id, n.key AS message_id, o.to_address, o.subject, o.body, o.attempts
			FROM email_outbox o JOIN notifications n ON n.id = o.notification_id
			WHERE o.sent_at IS NULL AND o.next_attempt_at <= $1
			ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED`
		var m Mail
		if err := tx.x.QueryRowxContext(ctx, claim, tx.now).StructScan(&m); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		}
		found = true
		if sendErr := send(m); sendErr != nil {
			const failed = `UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1`
			_, err := tx.x.ExecContext(ctx, failed, m.ID, tx.now.Add(backoff(m.Attempts+1)), truncate(sendErr.Error(), 500))
			return err
		}
		const sent = `UPDATE email_outbox SET attempts = attempts + 1, sent_at = $2, last_error = '' WHERE id = $1`
		_, err := tx.x.ExecContext(ctx, sent, m.ID, tx.now)
		return err
	})
	return found, err
}

// OutboxCounts returns how many e-mails are sent and how many wait.
func (q q) OutboxCounts(ctx context.Context) (sent, waiting int, err error) {
	const query = `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), count(*) FILTER (WHERE sent_at IS NULL) FROM email_outbox`
	err = q.x.QueryRowxContext(ctx, query).Scan(&sent, &waiting)
	return sent, waiting, mapErr(err)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
