package web

import (
	"strconv"
	"strings"

	"grantflow/internal/validate"
	"grantflow/money"
	"grantflow/workflow"
)

// form turns the text fields of a multipart form into typed values once, at
// the boundary, collecting every malformed value instead of stopping at the
// first. An empty field is the zero value: the input's tags say whether it
// was required.
type form struct {
	fields map[string]string
	p      workflow.Problems
}

// id reads a positive record id.
func (f *form) id(name string) int64 {
	v := strings.TrimSpace(f.fields[name])
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		f.p.Add(name, "harus berupa nomor (id) yang valid")
		return 0
	}
	return n
}

// count reads a whole number such as a session's hours.
func (f *form) count(name string) int {
	v := strings.TrimSpace(f.fields[name])
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.p.Add(name, "harus berupa bilangan bulat")
		return 0
	}
	return n
}

// rupiah reads an amount as people type it ("1250000", "Rp 1.250.000").
func (f *form) rupiah(name string) int64 {
	v := f.fields[name]
	if strings.TrimSpace(v) == "" {
		return 0
	}
	n, err := money.Parse(v)
	if err != nil {
		f.p.Add(name, "%s", err.Error())
		return 0
	}
	return n
}

// date reads a calendar day written YYYY-MM-DD.
func (f *form) date(name string) workflow.Date {
	v := strings.TrimSpace(f.fields[name])
	if v == "" {
		return workflow.Date{}
	}
	d, err := workflow.ParseDate(v)
	if err != nil {
		f.p.Add(name, "tanggal tidak valid, gunakan format YYYY-MM-DD")
	}
	return d
}

// check runs the field rules of in (built from this form) and returns every
// problem, the form's own first, as one EUnprocessable error with message
// msg; a field that did not parse is not reported a second time as missing.
func (f *form) check(in any, msg string) error {
	p := f.p
	bad := map[string]bool{}
	for _, d := range f.p {
		bad[d.Field] = true
	}
	for _, d := range validate.Check(in) {
		if !bad[d.Field] {
			p = append(p, d)
		}
	}
	return p.Err(msg)
}
