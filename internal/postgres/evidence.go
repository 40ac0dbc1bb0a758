package postgres

import "context"

// ReferencedFiles returns the set of content addresses some evidence row
// points to, as original or preview, and the frozen reports of closed grants.
func (q q) ReferencedFiles(ctx context.Context) (map[string]bool, error) {
	const query = `SELECT sha256 FROM evidence UNION SELECT preview_sha256 FROM evidence WHERE preview_sha256 IS NOT NULL
		UNION SELECT sha256 FROM grant_reports`
	rows, err := q.x.QueryxContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, mapErr(err)
		}
		out[k] = true
	}
	return out, mapErr(rows.Err())
}

// SetPreview records the preview of every evidence row of the stored file
// sha256 that has none yet.
func (q q) SetPreview(ctx context.Context, sha256, preview string) error {
	const query = `UPDATE evidence SET preview_sha256 = $2 WHERE sha256 = $1 AND preview_sha256 IS NULL`
	_, err := q.x.ExecContext(ctx, query, sha256, preview)
	return mapErr(err)
}

// Blob is one stored file's content key and type.
type Blob struct {
	SHA256 string
	MIME   string
}

// ImagesWithoutPreview returns up to limit distinct stored images that have
// no preview yet, oldest first.
func (q q) ImagesWithoutPreview(ctx context.Context, limit int) ([]Blob, error) {
	const query = `SELECT sha256, mime FROM evidence
		WHERE preview_sha256 IS NULL AND mime IN ('image/jpeg', 'image/png')
		GROUP BY sha256, mime ORDER BY min(id) LIMIT $1`
	rows, err := q.x.QueryxContext(ctx, query, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Blob
	for rows.Next() {
		var p Blob
		if err := rows.Scan(&p.SHA256, &p.MIME); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}
