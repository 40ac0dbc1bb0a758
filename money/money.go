// Package money formats, parses and spells rupiah amounts. Money is int64
// whole rupiah everywhere in grantflow; this package never uses floats.
package money

import "strconv"

// Format returns an amount as Indonesians write it: "Rp 1.250.000", "-Rp 5.000".
func Format(v int64) string {
	neg := v < 0
	var u uint64
	if neg {
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(v)
	}
	digits := strconv.FormatUint(u, 10)
	out := make([]byte, 0, len(digits)+len(digits)/3+4)
	for i, c := range []byte(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, c)
	}
	if neg {
		return "-Rp " + string(out)
	}
	return "Rp " + string(out)
}
