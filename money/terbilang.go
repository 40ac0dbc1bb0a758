package money

import "strings"

var digitWords = [10]string{"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"}

// scaleWords names each power of a thousand up to 10^18, which covers int64.
// "miliar" is the KBBI spelling (not "milyar"); 10^15 and 10^18 follow the
// short scale as Indonesian finance uses it.
var scaleWords = [7]string{"", "ribu", "juta", "miliar", "triliun", "kuadriliun", "kuintiliun"}

// Terbilang returns v spelled out in Indonesian words, as written on receipts
// and reports: 1250000 is "satu juta dua ratus lima puluh ribu", 0 is "nol",
// -5000 is "minus lima ribu". It covers every int64, math.MinInt64 included.
// Only a thousand takes the "se-" prefix (seribu); a million is "satu juta".
func Terbilang(v int64) string {
	if v == 0 {
		return digitWords[0]
	}
	var u uint64
	if v < 0 {
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(v)
	}

	// Split into groups of three digits, least significant first.
	var groups [7]int
	n := 0
	for ; u > 0; n++ {
		groups[n] = int(u % 1000)
		u /= 1000
	}

	words := make([]string, 0, 16)
	if v < 0 {
		words = append(words, "minus")
	}
	for i := n - 1; i >= 0; i-- {
		g := groups[i]
		switch {
		case g == 0:
			continue
		case g == 1 && i == 1:
			words = append(words, "seribu")
			continue
		}
		words = appendHundreds(words, g)
		if i > 0 {
			words = append(words, scaleWords[i])
		}
	}
	return strings.Join(words, " ")
}

// Words returns v spelled out followed by "rupiah", as the terbilang line of
// a document reads: "satu juta dua ratus lima puluh ribu rupiah".
func Words(v int64) string {
	return Terbilang(v) + " rupiah"
}

// appendHundreds appends the words for 1 ≤ g ≤ 999.
func appendHundreds(words []string, g int) []string {
	h, r := g/100, g%100
	switch {
	case h == 1:
		words = append(words, "seratus")
	case h > 1:
		words = append(words, digitWords[h], "ratus")
	}
	t, d := r/10, r%10
	switch {
	case r == 0:
	case r < 10:
		words = append(words, digitWords[r])
	case r == 10:
		words = append(words, "sepuluh")
	case r == 11:
		words = append(words, "sebelas")
	case r < 20:
		words = append(words, digitWords[d], "belas")
	default:
		words = append(words, digitWords[t], "puluh")
		if d > 0 {
			words = append(words, digitWords[d])
		}
	}
	return words
}
