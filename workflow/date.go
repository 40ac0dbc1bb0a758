package workflow

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Jakarta is the programme's calendar and clock (WIB, UTC+7): every date in
// grantflow is a Jakarta calendar day. Asia/Jakarta has kept UTC+7 without
// daylight saving since 1964, so a fixed zone is exact and needs no tzdata.
var Jakarta = time.FixedZone("WIB", 7*3600)

// Date is a calendar date with no time of day or zone, written YYYY-MM-DD.
// The zero Date means "not set" and is written as JSON null.
type Date struct{ t time.Time }

const dateLayout = "2006-01-02"

// ParseDate parses YYYY-MM-DD; it returns an EInvalid *Error for anything
// else, and for 0001-01-01, which is the zero Date ("not set") and so could
// never be stored as the day it names.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.IsZero() {
		return Date{}, Errorf(EInvalid, "tanggal %q tidak valid, gunakan format YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// MustDate is ParseDate for constants in tests and seeds; it panics on error.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return d.t }

// String returns YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dateLayout)
}

// Year returns the year of d.
func (d Date) Year() int { return d.t.Year() }

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// DaysSince returns the number of days from o to d (negative when d is before o).
func (d Date) DaysSince(o Date) int { return int(d.t.Sub(o.t).Hours() / 24) }

// MarshalJSON writes "YYYY-MM-DD" or null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD", "" or null. Anything else is a
// *json.UnmarshalTypeError, to which encoding/json adds the field's name.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*d = Date{}
		return nil
	}
	bad := &json.UnmarshalTypeError{Value: "date " + s, Type: reflect.TypeOf(Date{})}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return bad
	}
	p, err := ParseDate(s[1 : len(s)-1])
	if err != nil {
		return bad
	}
	*d = p
	return nil
}

// Scan reads a PostgreSQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = DateOf(v)
	case []byte:
		p, err := ParseDate(string(v[:min(len(v), 10)]))
		if err != nil {
			return err
		}
		*d = p
	case string:
		p, err := ParseDate(v[:min(len(v), 10)])
		if err != nil {
			return err
		}
		*d = p
	default:
		return fmt.Errorf("workflow.Date: cannot scan %T", src)
	}
	return nil
}

// Value writes a PostgreSQL date, or NULL for the zero Date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}
