package money

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Sentinel errors of Parse. Parse wraps one of them in an error whose message
// (Bahasa Indonesia, safe to show a user) names the input and how to fix it;
// compare with errors.Is.
var (
	ErrEmpty    = errors.New("jumlah wajib diisi")
	ErrNegative = errors.New("jumlah tidak boleh negatif")
	ErrDecimal  = errors.New("jumlah harus rupiah bulat, tanpa sen")
	ErrOverflow = errors.New("jumlah terlalu besar")
	ErrSyntax   = errors.New("format jumlah tidak valid")
)

// parseError carries a sentinel (for errors.Is) and a specific message.
type parseError struct {
	kind error
	msg  string
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.kind }

// maxQuoted bounds how much of the input an error message repeats, so a
// pasted essay does not come back as a field message.
const maxQuoted = 40

func fail(kind error, input, hint string) error {
	if len(input) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(input[cut]) {
			cut--
		}
		input = input[:cut] + "…"
	}
	msg := kind.Error()
	if strings.TrimSpace(input) != "" {
		msg = fmt.Sprintf("%s: %q", msg, input)
	}
	if hint != "" {
		msg += "; " + hint
	}
	return &parseError{kind: kind, msg: msg}
}

const hintExample = "tulis angka bulat seperti 1.250.000"

// Parse reads a rupiah amount typed by a person and returns it in whole rupiah.
//
// Accepted, after trimming surrounding white space:
//   - plain digits: "1250000" (leading zeros allowed: "007" is 7);
//   - digits grouped in threes by dots, as Indonesians write them: "1.250.000",
//     "1.250" (= 1250); the first group has 1–3 digits and no leading zero,
//     every later group exactly 3;
//   - the same grouping by single spaces instead of dots ("1 250 000"; also
//     no-break and narrow no-break spaces, as phones and spreadsheets paste
//     them), but never dots and spaces mixed;
//   - an optional currency prefix "Rp", in any letter case, optionally
//     followed by a dot and/or spaces: "Rp 1.250.000", "Rp1.250.000", "Rp. 1.250.000";
//   - an optional suffix that states there are no cents: ",-", ",0" or ",00"
//     ("Rp 1.250.000,-", "1.250.000,00").
//
// Refused, each with its sentinel:
//   - ErrEmpty: nothing but white space and an optional "Rp";
//   - ErrNegative: a leading minus sign ("-5.000", "-Rp 5.000", "Rp -5.000");
//   - ErrDecimal: a fraction: a comma followed by digits other than the zero
//     suffixes above ("1.250.000,50", "1,5"), or a single dot followed by only
//     one or two digits ("1250000.5", "1.25"), which can only be a decimal
//     point because a thousands dot is always followed by three digits;
//   - ErrOverflow: more than math.MaxInt64 rupiah;
//   - ErrSyntax: anything else, among them wrongly grouped digits ("12.34.567",
//     "1.2345", "1250.000"), English grouping by commas ("1,250,000"), a plus
//     sign, letters and non-ASCII digits.
func Parse(s string) (int64, error) {
	body := strings.TrimSpace(s)
	if body == "" {
		return 0, fail(ErrEmpty, s, "")
	}

	neg := false
	body, neg = cutMinus(body)
	if rest, ok := cutPrefixFold(body, "rp"); ok {
		rest = strings.TrimPrefix(rest, ".")
		body = strings.TrimLeftFunc(rest, isGroupSpaceOrSpace)
		if body == "" && !neg {
			return 0, fail(ErrEmpty, s, "")
		}
		if !neg {
			body, neg = cutMinus(body)
		}
	}
	if neg {
		if strings.ContainsAny(body, "0123456789") {
			return 0, fail(ErrNegative, s, "")
		}
		return 0, fail(ErrSyntax, s, hintExample)
	}

	// A comma is the decimal separator in Indonesian.
	if i := strings.IndexByte(body, ','); i >= 0 {
		frac := body[i+1:]
		body = body[:i]
		switch {
		case frac == "-" || frac == "0" || frac == "00":
			// "tanpa sen": whole rupiah, explicitly.
		case strings.IndexByte(frac, ',') >= 0:
			return 0, fail(ErrSyntax, s, "koma adalah tanda desimal; pisahkan ribuan dengan titik, "+hintExample)
		case len(frac) == 3 && allDigits(frac):
			// "1,250" is 1250 to an English reader and 1¼ to an Indonesian one.
			return 0, fail(ErrSyntax, s, "koma adalah tanda desimal; pisahkan ribuan dengan titik, "+hintExample)
		case frac != "" && allDigits(frac):
			return 0, fail(ErrDecimal, s, hintExample)
		default:
			return 0, fail(ErrSyntax, s, hintExample)
		}
		if body == "" {
			return 0, fail(ErrSyntax, s, hintExample)
		}
	}

	digits, hint, kind := ungroup(body)
	if kind != nil {
		return 0, fail(kind, s, hint)
	}
	var v int64
	for i := 0; i < len(digits); i++ {
		d := int64(digits[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, fail(ErrOverflow, s, fmt.Sprintf("paling besar %s", Format(math.MaxInt64)))
		}
		v = v*10 + d
	}
	return v, nil
}

// ungroup checks the digit grouping of body and returns its digits without
// separators, or the sentinel and a hint when the grouping is wrong.
func ungroup(body string) (digits, hint string, err error) {
	if body == "" {
		return "", hintExample, ErrSyntax
	}
	hasDot := strings.IndexByte(body, '.') >= 0
	hasSpace := strings.IndexFunc(body, isGroupSpace) >= 0
	switch {
	case hasDot && hasSpace:
		return "", "pisahkan ribuan dengan titik saja, " + hintExample, ErrSyntax
	case !hasDot && !hasSpace:
		if !allDigits(body) {
			return "", hintExample, ErrSyntax
		}
		return body, "", nil
	}

	var groups []string
	if hasDot {
		groups = strings.Split(body, ".")
	} else {
		groups = strings.FieldsFunc(body, isGroupSpace)
		// FieldsFunc swallows runs of spaces; a run is not a separator.
		if strings.Join(groups, " ") != normaliseSpaces(body) {
			return "", hintExample, ErrSyntax
		}
	}
	for _, g := range groups {
		if !allDigits(g) {
			return "", hintExample, ErrSyntax
		}
	}
	last := groups[len(groups)-1]
	if hasDot && len(groups) == 2 && len(last) >= 1 && len(last) <= 2 {
		return "", hintExample, ErrDecimal
	}
	first := groups[0]
	if len(first) > 3 || (len(first) > 1 && first[0] == '0') || (first == "0") {
		return "", "kelompokkan angka per tiga digit, " + hintExample, ErrSyntax
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", "kelompokkan angka per tiga digit, " + hintExample, ErrSyntax
		}
	}
	return strings.Join(groups, ""), "", nil
}

// cutMinus removes one leading minus sign (ASCII or U+2212) and the spaces
// after it.
func cutMinus(s string) (string, bool) {
	for _, m := range []string{"-", "\u2212"} {
		if rest, ok := strings.CutPrefix(s, m); ok {
			return strings.TrimLeftFunc(rest, isGroupSpaceOrSpace), true
		}
	}
	return s, false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isGroupSpace reports the spaces accepted between digit groups: space,
// no-break space and narrow no-break space.
func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00a0' || r == '\u202f'
}

func isGroupSpaceOrSpace(r rune) bool {
	return isGroupSpace(r) || r == '\t'
}

func normaliseSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if isGroupSpace(r) {
			return ' '
		}
		return r
	}, s)
}
