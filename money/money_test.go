package money_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"grantflow/money"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "Rp 0"},
		{5, "Rp 5"},
		{999, "Rp 999"},
		{1000, "Rp 1.000"},
		{1250000, "Rp 1.250.000"},
		{-5000, "-Rp 5.000"},
		{math.MaxInt64, "Rp 9.223.372.036.854.775.807"},
		{math.MinInt64, "-Rp 9.223.372.036.854.775.808"},
	}
	for _, tt := range tests {
		if got := money.Format(tt.v); got != tt.want {
			t.Errorf("Format(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"5", 5},
		{"007", 7},
		{"1250000", 1250000},
		{"1.250.000", 1250000},
		{"1.250", 1250},
		{"12.500", 12500},
		{"125.000", 125000},
		{"Rp 1.250.000", 1250000},
		{"Rp1.250.000", 1250000},
		{"rp 1.250.000", 1250000},
		{"RP1250000", 1250000},
		{"Rp. 1.250.000", 1250000},
		{"Rp.1.250.000", 1250000},
		{"Rp 0", 0},
		{"  1.250.000\t", 1250000},
		{" 1 250 000 ", 1250000},
		{"1\u00a0250\u00a0000", 1250000},
		{"Rp\u00a01.250.000", 1250000},
		{"1\u202f250", 1250},
		{"Rp 1.250.000,-", 1250000},
		{"1.250.000,00", 1250000},
		{"1250000,0", 1250000},
		{"9.223.372.036.854.775.807", math.MaxInt64},
		{"9223372036854775807", math.MaxInt64},
		{"0000000000000000000000009223372036854775807", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := money.Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", money.ErrEmpty},
		{"   ", money.ErrEmpty},
		{"Rp", money.ErrEmpty},
		{"Rp. ", money.ErrEmpty},
		{"-5000", money.ErrNegative},
		{"-5.000", money.ErrNegative},
		{"-Rp 5.000", money.ErrNegative},
		{"Rp -5.000", money.ErrNegative},
		{"Rp-5.000", money.ErrNegative},
		{"- 1", money.ErrNegative},
		{"\u22125000", money.ErrNegative},
		{"-1,5", money.ErrNegative},
		{"-0", money.ErrNegative},
		{"1.250.000,50", money.ErrDecimal},
		{"1250000.5", money.ErrDecimal},
		{"1250000.50", money.ErrDecimal},
		{"1.25", money.ErrDecimal},
		{"1,5", money.ErrDecimal},
		{"0,01", money.ErrDecimal},
		{"1,2345", money.ErrDecimal},
		{"Rp 1.250.000,05", money.ErrDecimal},
		{"9223372036854775808", money.ErrOverflow},
		{"9.223.372.036.854.775.808", money.ErrOverflow},
		{"99999999999999999999999999", money.ErrOverflow},
		{"-", money.ErrSyntax},
		{"-Rp", money.ErrSyntax},
		{"abc", money.ErrSyntax},
		{"12a", money.ErrSyntax},
		{"+5000", money.ErrSyntax},
		{"1,250,000", money.ErrSyntax},
		{"1,250", money.ErrSyntax},
		{"12.34.567", money.ErrSyntax},
		{"1.2345", money.ErrSyntax},
		{"1250.000", money.ErrSyntax},
		{"1.250.00", money.ErrSyntax},
		{"1.250.0000", money.ErrSyntax},
		{".250", money.ErrSyntax},
		{"1.", money.ErrSyntax},
		{"1..250", money.ErrSyntax},
		{"1.250.", money.ErrSyntax},
		{"0.250", money.ErrSyntax},
		{"01.250", money.ErrSyntax},
		{"1.250 000", money.ErrSyntax},
		{"1  250", money.ErrSyntax},
		{"12 50", money.ErrSyntax},
		{",-", money.ErrSyntax},
		{"Rp ,00", money.ErrSyntax},
		{"1,", money.ErrSyntax},
		{"1,x", money.ErrSyntax},
		{"1.250,000", money.ErrSyntax},
		{"1,5,0", money.ErrSyntax},
		{"Rp 1.250.000 rupiah", money.ErrSyntax},
		{"IDR 5000", money.ErrSyntax},
		{"١٢٣", money.ErrSyntax}, // Arabic-Indic digits
		{"1e6", money.ErrSyntax},
		{"0x10", money.ErrSyntax},
		{"Rp Rp 5", money.ErrSyntax},
	}
	sentinels := []error{money.ErrEmpty, money.ErrNegative, money.ErrDecimal, money.ErrOverflow, money.ErrSyntax}
	for _, tt := range tests {
		got, err := money.Parse(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %d, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		if got != 0 {
			t.Errorf("Parse(%q) returned %d with an error", tt.in, got)
		}
		for _, s := range sentinels {
			if s != tt.want && errors.Is(err, s) {
				t.Errorf("Parse(%q) error %v also matches %v", tt.in, err, s)
			}
		}
		if !strings.HasPrefix(err.Error(), tt.want.Error()) {
			t.Errorf("Parse(%q) message %q does not start with %q", tt.in, err, tt.want)
		}
	}
}

func TestParseErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("é", 500)
	_, err := money.Parse(long)
	if err == nil {
		t.Fatal("no error")
	}
	if len(err.Error()) > 200 || !utf8.ValidString(err.Error()) {
		t.Errorf("message too long or broken: %q", err)
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999999, 1000000, 1250000, 15000000, math.MaxInt64} {
		s := money.Format(v)
		for _, in := range []string{s, strings.TrimPrefix(s, "Rp "), strings.ReplaceAll(strings.TrimPrefix(s, "Rp "), ".", " ")} {
			got, err := money.Parse(in)
			if err != nil || got != v {
				t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, v)
			}
		}
	}
}

func TestTerbilang(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "nol"},
		{1, "satu"},
		{2, "dua"},
		{3, "tiga"},
		{4, "empat"},
		{5, "lima"},
		{6, "enam"},
		{7, "tujuh"},
		{8, "delapan"},
		{9, "sembilan"},
		{10, "sepuluh"},
		{11, "sebelas"},
		{12, "dua belas"},
		{15, "lima belas"},
		{19, "sembilan belas"},
		{20, "dua puluh"},
		{21, "dua puluh satu"},
		{55, "lima puluh lima"},
		{99, "sembilan puluh sembilan"},
		{100, "seratus"},
		{101, "seratus satu"},
		{110, "seratus sepuluh"},
		{111, "seratus sebelas"},
		{115, "seratus lima belas"},
		{199, "seratus sembilan puluh sembilan"},
		{200, "dua ratus"},
		{250, "dua ratus lima puluh"},
		{999, "sembilan ratus sembilan puluh sembilan"},
		{1000, "seribu"},
		{1001, "seribu satu"},
		{1010, "seribu sepuluh"},
		{1100, "seribu seratus"},
		{1111, "seribu seratus sebelas"},
		{1250, "seribu dua ratus lima puluh"},
		{2000, "dua ribu"},
		{10000, "sepuluh ribu"},
		{11000, "sebelas ribu"},
		{12000, "dua belas ribu"},
		{21000, "dua puluh satu ribu"},
		{100000, "seratus ribu"},
		{101000, "seratus satu ribu"},
		{111111, "seratus sebelas ribu seratus sebelas"},
		{999999, "sembilan ratus sembilan puluh sembilan ribu sembilan ratus sembilan puluh sembilan"},
		{1000000, "satu juta"},
		{1000001, "satu juta satu"},
		{1001000, "satu juta seribu"},
		{1250000, "satu juta dua ratus lima puluh ribu"},
		{5000000, "lima juta"},
		{15000000, "lima belas juta"},
		{30000000, "tiga puluh juta"},
		{100000000, "seratus juta"},
		{1000000000, "satu miliar"},
		{1000001000, "satu miliar seribu"},
		{2500000000, "dua miliar lima ratus juta"},
		{1000000000000, "satu triliun"},
		{1000000000000000, "satu kuadriliun"},
		{1000000000000000000, "satu kuintiliun"},
		{1000000000000001000, "satu kuintiliun seribu"},
		{123456789, "seratus dua puluh tiga juta empat ratus lima puluh enam ribu tujuh ratus delapan puluh sembilan"},
		{math.MaxInt64, "sembilan kuintiliun dua ratus dua puluh tiga kuadriliun tiga ratus tujuh puluh dua triliun " +
			"tiga puluh enam miliar delapan ratus lima puluh empat juta tujuh ratus tujuh puluh lima ribu delapan ratus tujuh"},
		{-1, "minus satu"},
		{-1000, "minus seribu"},
		{-5000, "minus lima ribu"},
		{-1250000, "minus satu juta dua ratus lima puluh ribu"},
		{math.MinInt64, "minus sembilan kuintiliun dua ratus dua puluh tiga kuadriliun tiga ratus tujuh puluh dua triliun " +
			"tiga puluh enam miliar delapan ratus lima puluh empat juta tujuh ratus tujuh puluh lima ribu delapan ratus delapan"},
	}
	for _, tt := range tests {
		if got := money.Terbilang(tt.v); got != tt.want {
			t.Errorf("Terbilang(%d) = %q, want %q", tt.v, got, tt.want)
		}
		if got, ok := wordsValue(money.Terbilang(tt.v)); !ok || got != tt.v {
			t.Errorf("reading Terbilang(%d) back gives %d, %v", tt.v, got, ok)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "nol rupiah"},
		{1250000, "satu juta dua ratus lima puluh ribu rupiah"},
		{15000000, "lima belas juta rupiah"},
	}
	for _, tt := range tests {
		if got := money.Words(tt.v); got != tt.want {
			t.Errorf("Words(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestTerbilangSmallRange spells every number below 1 000 000 and reads it
// back with an independent reader of the words.
func TestTerbilangSmallRange(t *testing.T) {
	for v := int64(0); v < 1_000_000; v++ {
		s := money.Terbilang(v)
		if got, ok := wordsValue(s); !ok || got != v {
			t.Fatalf("Terbilang(%d) = %q reads back as %d, %v", v, s, got, ok)
		}
	}
}

var scales = map[string]uint64{
	"ribu":       1e3,
	"juta":       1e6,
	"miliar":     1e9,
	"triliun":    1e12,
	"kuadriliun": 1e15,
	"kuintiliun": 1e18,
}

var digits = map[string]uint64{
	"satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
	"enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9,
}

// wordsValue reads Indonesian number words back into a value. It is strict
// enough to catch a word in the wrong place: a multiplier with no digit
// before it, scales out of descending order, a digit left dangling before
// another digit.
func wordsValue(s string) (int64, bool) {
	words := strings.Split(s, " ")
	neg := false
	if words[0] == "minus" {
		neg = true
		words = words[1:]
	}
	if len(words) == 1 && words[0] == "nol" {
		return 0, !neg
	}
	var total, group uint64
	pending := uint64(0) // a digit waiting for its multiplier
	lastScale := uint64(math.MaxUint64)
	lastMul := uint64(1000) // the group's positions must descend: ratus, puluh/belas, units
	addGroup := func(mul uint64) bool {
		if mul >= lastMul {
			return false
		}
		lastMul = mul
		return true
	}
	for _, w := range words {
		if d, ok := digits[w]; ok {
			if pending != 0 {
				return 0, false
			}
			pending = d
			continue
		}
		switch w {
		case "sepuluh", "sebelas", "seratus":
			if pending != 0 {
				return 0, false
			}
			v := map[string]uint64{"sepuluh": 10, "sebelas": 11, "seratus": 100}[w]
			mul := uint64(10)
			if w == "seratus" {
				mul = 100
			}
			if !addGroup(mul) {
				return 0, false
			}
			group += v
		case "ratus", "puluh", "belas":
			if pending == 0 {
				return 0, false
			}
			switch w {
			case "ratus":
				if !addGroup(100) {
					return 0, false
				}
				group += pending * 100
			case "puluh":
				if !addGroup(10) {
					return 0, false
				}
				group += pending * 10
			case "belas":
				if !addGroup(10) {
					return 0, false
				}
				group += pending + 10
			}
			pending = 0
		case "seribu":
			if pending != 0 || group != 0 || lastScale <= 1e3 {
				return 0, false
			}
			total += 1000
			lastScale, lastMul = 1e3, 1000
		default:
			sc, ok := scales[w]
			if !ok {
				return 0, false
			}
			if pending != 0 {
				if !addGroup(1) {
					return 0, false
				}
				group += pending
				pending = 0
			}
			if group == 0 || sc >= lastScale || (sc == 1e3 && group == 1) {
				return 0, false
			}
			total += group * sc
			group, lastScale, lastMul = 0, sc, 1000
		}
	}
	if pending != 0 {
		if !addGroup(1) {
			return 0, false
		}
		group += pending
	}
	total += group
	if neg {
		if total > 1<<63 {
			return 0, false
		}
		return int64(-total), true // wraps correctly for 1<<63
	}
	if total > math.MaxInt64 {
		return 0, false
	}
	return int64(total), true
}
