package postgres

import "context"

// ReferencedFiles returns the set of content addresses some evidence row
// points to, as original or preview.
func (q q) ReferencedFiles(ctx context.Context) (map[string]bool, error) {
	const query = `SELECT sha256 FROM evidence UNION SELECT preview_sha256 FROM evidence WHERE preview_sha256 IS NOT NULL`
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
