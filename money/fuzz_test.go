package money_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"grantflow/money"
)

// FuzzParse checks that Parse never panics, that whatever it accepts is a
// non-negative amount it reads back from its own formatting, that every
// refusal carries one of the sentinels, and that Format without "Rp "
// round-trips for every non-negative amount.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0", "1.250.000", "Rp 1.250.000", "Rp1.250.000", " 1 250 000 ", "1250000",
		"1.250.000,50", "1250000.5", "1.25", "-5.000", "", "Rp", "9223372036854775808",
		"1,250,000", "Rp. 1.250.000,-", "1\u00a0250", "\u22121", "12.34.567",
	} {
		f.Add(s, int64(len(s)))
	}
	f.Add("", int64(math.MaxInt64))
	f.Add("", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, s string, x int64) {
		v, err := money.Parse(s)
		if err != nil {
			if v != 0 {
				t.Errorf("Parse(%q) = %d with error %v", s, v, err)
			}
			if !errors.Is(err, money.ErrEmpty) && !errors.Is(err, money.ErrNegative) &&
				!errors.Is(err, money.ErrDecimal) && !errors.Is(err, money.ErrOverflow) &&
				!errors.Is(err, money.ErrSyntax) {
				t.Errorf("Parse(%q) error %v has no sentinel", s, err)
			}
		} else {
			if v < 0 {
				t.Errorf("Parse(%q) = %d, negative", s, v)
			}
			if back, err := money.Parse(money.Format(v)); err != nil || back != v {
				t.Errorf("Parse(Format(%d)) = %d, %v", v, back, err)
			}
		}

		if x < 0 {
			x = -(x + 1) // maps MinInt64 to MaxInt64 without overflow
		}
		plain := strings.TrimPrefix(money.Format(x), "Rp ")
		for _, in := range []string{plain, "Rp " + plain, strings.ReplaceAll(plain, ".", "")} {
			got, err := money.Parse(in)
			if err != nil || got != x {
				t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, x)
			}
		}
	})
}

// vocabulary is every word Terbilang may use for a non-negative value.
var vocabulary = map[string]bool{
	"nol": true, "satu": true, "dua": true, "tiga": true, "empat": true, "lima": true,
	"enam": true, "tujuh": true, "delapan": true, "sembilan": true,
	"sepuluh": true, "sebelas": true, "seratus": true, "seribu": true,
	"belas": true, "puluh": true, "ratus": true,
	"ribu": true, "juta": true, "miliar": true, "triliun": true, "kuadriliun": true, "kuintiliun": true,
}

// FuzzTerbilang checks that Terbilang never panics, never leaves stray
// spaces, uses only known words, and that its words read back to the value.
func FuzzTerbilang(f *testing.F) {
	for _, v := range []int64{0, 1, 10, 11, 100, 1000, 1001000, 1250000, math.MaxInt64, math.MinInt64, -1} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		s := money.Terbilang(v)
		if s == "" || strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
			t.Fatalf("Terbilang(%d) = %q: bad spacing", v, s)
		}
		words := strings.Split(s, " ")
		if v < 0 {
			if words[0] != "minus" {
				t.Fatalf("Terbilang(%d) = %q: no minus", v, s)
			}
			words = words[1:]
		}
		for _, w := range words {
			if !vocabulary[w] {
				t.Fatalf("Terbilang(%d) = %q: unknown word %q", v, s, w)
			}
		}
		if (v == 0) != (s == "nol") || (v != 0 && strings.Contains(s, "nol")) {
			t.Fatalf("Terbilang(%d) = %q: misplaced nol", v, s)
		}
		if got, ok := wordsValue(s); !ok || got != v {
			t.Fatalf("Terbilang(%d) = %q reads back as %d, %v", v, s, got, ok)
		}
		if w := money.Words(v); w != s+" rupiah" {
			t.Fatalf("Words(%d) = %q", v, w)
		}
	})
}
