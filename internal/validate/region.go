package validate

import (
	"errors"
	"strings"

	"grantflow/regions"
	"grantflow/workflow"
)

// Place is a province and, when one was given, a regency or city of the
// official list, as Region resolved them.
type Place struct {
	Province regions.Province
	Regency  regions.Regency
}

// Codes returns the official codes, "" for what was not given.
func (p Place) Codes() (province, regency string) { return p.Province.Code, p.Regency.Code }

// Names returns the official names, "" for what was not given.
func (p Place) Names() (province, regency string) { return p.Province.Name, p.Regency.Name }

// Region resolves a province and a regency as people type them (a name in
// any case and spacing, or the code) against the Kemendagri list. A blank
// province with a blank regency is no place and no problem: whether one is
// required is the caller's rule; a regency alone stands for its province
// when only one province has it. Otherwise every problem names its field
// ("province" or "regency") with the list's own message, which ends in
// "maksud Anda: …?" when a near name exists; a regency must lie in the
// province given.
func Region(province, regency string) (Place, workflow.Problems) {
	var ps workflow.Problems
	if strings.TrimSpace(province) == "" && strings.TrimSpace(regency) == "" {
		return Place{}, nil
	}
	var p regions.Province
	var r regions.Regency
	var err error
	if strings.TrimSpace(province) == "" {
		// A regency alone names its province when the list has it once.
		if r, err = regions.FindRegencyAnywhere(regency); err == nil {
			p, _ = regions.ProvinceByCode(r.ProvinceCode)
		}
	} else {
		p, r, err = regions.Find(province, regency)
	}
	var re *regions.Error
	switch {
	case errors.As(err, &re):
		ps.Add(re.Field, "%s", re.Error())
		return Place{}, ps
	case err != nil:
		panic(err) // regions returns only *regions.Error
	}
	return Place{Province: p, Regency: r}, nil
}
