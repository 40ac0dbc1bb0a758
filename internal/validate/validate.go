// Package validate checks the field rules written as struct tags on input
// types (`validate:"required,max=200,nocontrol"`, `label:"Nama toko"`) with
// one go-playground/validator instance and its Indonesian translations.
//
// The tags live on the types in workflow and grants, which stay free of this
// dependency: only the boundary that receives input (internal/web, and the
// service entry points that CLI, demo and benchmark also call) runs them.
// Cross-field and business rules stay in workflow.
package validate

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/locales/id"
	ut "github.com/go-playground/universal-translator"
	"github.com/go-playground/validator/v10"
	idtrans "github.com/go-playground/validator/v10/translations/id"

	"grantflow/workflow"
)

// The sane window of calendar days: anything outside it is a typing error,
// refused with the field named instead of by the database.
const (
	firstDay = "2000-01-01"
	lastDay  = "2100-12-31"
)

// sep joins the JSON name and the label in the name the validator reports,
// so that one FieldError carries both the path and the words for a person.
const sep = "|"

var (
	once  sync.Once
	valid *validator.Validate
	trans ut.Translator
)

func instance() (*validator.Validate, ut.Translator) {
	once.Do(func() {
		loc := id.New()
		trans, _ = ut.New(loc, loc).GetTranslator("id")
		valid = validator.New(validator.WithRequiredStructEnabled())
		valid.RegisterTagNameFunc(func(f reflect.StructField) string {
			if f.Anonymous {
				return "" // the Go name, without sep: path drops it
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				return ""
			}
			if name == "" {
				name = f.Name
			}
			label := f.Tag.Get("label")
			if label == "" {
				label = name
			}
			return name + sep + label
		})
		// A Date is checked as its YYYY-MM-DD text: "" when unset, so that
		// required and the day window apply to it like to any text.
		valid.RegisterCustomTypeFunc(func(v reflect.Value) any { return v.Interface().(workflow.Date).String() }, workflow.Date{})
		must(idtrans.RegisterDefaultTranslations(valid, trans))
		custom("nocontrol", noControl, "{0} mengandung karakter kontrol atau teks yang bukan UTF-8")
		custom("oneline", oneline, "{0} harus satu baris, tanpa karakter kontrol")
		custom("day", saneDay, "{0} harus tanggal antara "+firstDay+" dan "+lastDay)
		custom("digits", digits, "{0} hanya boleh berisi angka")
		custom("codeword", codeword, "{0} hanya boleh huruf kecil a-z dan garis bawah")
		custom("notblank", notBlank, "{0} wajib diisi")
		custom("riskcode", func(fl validator.FieldLevel) bool { return workflow.IsRiskCode(fl.Field().String()) },
			"{0} memakai kode sinyal risiko yang tidak dikenal")
	})
	return valid, trans
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func custom(tag string, fn validator.Func, msg string) {
	must(valid.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return fn(fl) }))
	must(valid.RegisterTranslation(tag, trans,
		func(t ut.Translator) error { return t.Add(tag, msg, true) },
		func(t ut.Translator, fe validator.FieldError) string { s, _ := t.T(tag, fe.Field()); return s }))
}

// noControl refuses text PostgreSQL cannot keep (invalid UTF-8, NUL) and
// control characters a person never types; tab and newline are allowed in
// long text such as a description.
// bidiControl reports the explicit direction embeddings, overrides and
// isolates (U+202A–U+202E, U+2066–U+2069): invisible, they make a name or a
// reason print in an order other than the one stored ("evil\u202egnp.exe"
// reads "evilexe.png" in a list or the LPJ). The implicit marks (LRM, RLM)
// that right-to-left text needs stay allowed.
func bidiControl(r rune) bool { return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 }

// oneline is nocontrol for a field of one line (a person's name): no line
// break or tab either.
func oneline(fl validator.FieldLevel) bool {
	return noControl(fl) && !strings.ContainsAny(fl.Field().String(), "\n\r\t")
}

func noControl(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' || bidiControl(r) {
			return false
		}
	}
	return true
}

// saneDay accepts an unset day (required says whether one must be given)
// and any day of the window.
func saneDay(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	return s == "" || s >= firstDay && s <= lastDay
}

// notBlank is required for text a person types: spaces alone are no name.
func notBlank(fl validator.FieldLevel) bool { return !workflow.Blank(fl.Field().String()) }

// codeword accepts the codes people never see but type once, such as a
// budget category's ("atk_bahan"): lower-case ASCII letters and underscores.
func codeword(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return s != ""
}

func digits(fl validator.FieldLevel) bool {
	s := fl.Field().String()
	return s == "" || isIndex(s)
}

// Check runs the tags of v (a struct or a pointer to one) and returns every
// broken rule as a detail: the JSON path (members[3].name) and an Indonesian
// message with the field's label. It returns nil when every rule holds.
func Check(v any) workflow.Problems {
	vd, tr := instance()
	err := vd.Struct(v)
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		if err != nil {
			panic(err) // not a struct: a programming error, never input
		}
		return nil
	}
	p := make(workflow.Problems, 0, len(fes))
	for _, fe := range fes {
		_, label, _ := strings.Cut(fe.Field(), sep)
		msg := strings.Replace(fe.Translate(tr), fe.Field(), words(label), 1)
		p = append(p, workflow.Detail{Field: path(fe.Namespace()), Message: msg})
	}
	return p
}

// words writes the label of a list item or map value as a person reads
// it: "Persen tahap[1]" as "Persen tahap ke-2", "Plafon[KKG]" as "Plafon KKG".
func words(label string) string {
	name, key, ok := strings.Cut(label, "[")
	if !ok {
		return label
	}
	key = strings.TrimSuffix(key, "]")
	if n, err := strconv.Atoi(key); err == nil {
		return fmt.Sprintf("%s ke-%d", name, n+1)
	}
	return name + " " + key
}

// Err is Check as an EUnprocessable *Error with message msg, or nil.
func Err(v any, msg string) error {
	return Check(v).Err(msg)
}

// path turns the validator's namespace (Type.members|Anggota[3].name|Nama)
// into the JSON path members[3].name; a map key becomes a name of its own,
// as JSON writes it (ceilings|Plafon[KKG] → ceilings.KKG).
func path(ns string) string {
	var out []string
	for _, part := range strings.Split(ns, ".") {
		name, rest, ok := strings.Cut(part, sep)
		if !ok {
			continue // the type's name, or an embedded struct JSON flattens too
		}
		if j := strings.IndexByte(rest, '['); j >= 0 {
			for _, idx := range strings.SplitAfter(rest[j:], "]") {
				key := strings.TrimSuffix(strings.TrimPrefix(idx, "["), "]")
				switch {
				case idx == "":
				case isIndex(key):
					name += idx
				default:
					name += "." + key
				}
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, ".")
}

// isIndex reports whether s is a non-empty run of ASCII digits.
func isIndex(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// With runs v's tags after its hand-written rules (a workflow Validate or
// Normalize result) and returns both as one EUnprocessable error with
// message msg: the rules' details first, then each broken tag of a field
// the rules did not already name. An error of any other kind is returned
// as it is; nil when everything holds.
func With(v any, rules error, msg string) error {
	var p workflow.Problems
	if rules != nil {
		var we *workflow.Error
		if !errors.As(rules, &we) || we.Code != workflow.EUnprocessable {
			return rules
		}
		p = append(p, we.Details...)
	}
	named := map[string]bool{}
	for _, d := range p {
		named[d.Field] = true
	}
	for _, d := range Check(v) {
		if !named[d.Field] {
			p = append(p, d)
		}
	}
	return p.Err(msg)
}
