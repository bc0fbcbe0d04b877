package csvimport

import (
	"io"
	"strings"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
)

// Contacts is the content of a valid contacts file.
type Contacts struct {
	// Contacts in file order, with normalised emails. IDs and OrgIDs are
	// zero: the store assigns them.
	Contacts []domain.Contact
	// Lines maps each normalised email to its line, so that a caller can
	// name the row of a contact the store reports as already on record.
	Lines map[string]int
}

// Contact columns, as in SPEC §6: email,name (name optional).
const colName = "name"

var contactColumns = []column{{colEmail, true}, {colName, false}}

// ParseContacts reads a contacts file named file (the name is used only in
// error messages) and validates every row. Emails are required and
// normalised; two rows whose emails normalise alike are an error.
//
// When any row is bad it returns no contacts and an *Errors naming each bad
// row; when reading fails it returns the read error.
func ParseContacts(r io.Reader, file string) (Contacts, error) {
	return parseContacts(r, file, defaultLimits)
}

func parseContacts(r io.Reader, file string, lim limits) (Contacts, error) {
	errs := &collector{file: file, max: lim.errors}
	t, ok := newTable(r, contactColumns, lim, errs)
	if !ok {
		return Contacts{}, firstErr(t.ioErr, errs.err())
	}
	cEmail, cName := t.col(colEmail), t.col(colName)

	var out Contacts
	out.Lines = make(map[string]int)
	// After the first bad row nothing is returned: later rows are checked, not kept.
	for rec, line, ok := t.next(); ok; rec, line, ok = t.next() {
		c := domain.Contact{
			Email: checkEmail(errs, line, rec[cEmail]),
			Name:  checkName(errs, line, colName, field(rec, cName)),
		}
		if strings.TrimSpace(rec[cEmail]) == "" {
			// A contact needs an address: the rule's own words.
			errs.addf(line, "%s", domain.ErrorMessage(c.Normalize()))
		}
		if c.Email != "" {
			if prev, dup := out.Lines[c.Email]; dup {
				errs.addf(line, "email %s is also on line %d", c.Email, prev)
			} else {
				out.Lines[c.Email] = line
			}
		}
		if len(errs.errs) == 0 {
			out.Contacts = append(out.Contacts, c)
		}
	}
	if err := firstErr(t.ioErr, errs.err()); err != nil {
		return Contacts{}, err
	}
	return out, nil
}

// checkEmail returns s normalised, or records why it cannot be and returns
// "". An empty s gives "". The rule and its words are address.Check's, as
// for the API and the UI.
func checkEmail(errs *collector, line int, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	addr, err := address.Check(colEmail, s)
	if err != nil {
		errs.addf(line, "%s", domain.ErrorMessage(err))
		return ""
	}
	return addr
}

// checkName returns s trimmed, or records why it is not a name
// (domain.CheckName, as for the API and the UI) and returns "".
func checkName(errs *collector, line int, col, s string) string {
	name, err := domain.CheckName(col, s)
	if err != nil {
		errs.addf(line, "%s", domain.ErrorMessage(err))
	}
	return name
}
