package domain

import (
	"fmt"
	"strings"
)

// Contact is an authorised contact: a person whose mail from the address on
// record may ask for unlocks of their organisation's users.
type Contact struct {
	ID    int64
	OrgID int64
	// Email is the normalised address on record (see internal/address).
	Email string
	Name  string
	// SharedWith, where the store fills it in, names (by slug) the other
	// orgs that have the same address as a contact. Mail from such an
	// address is ambiguous and queued for staff (QueueAmbiguous); only
	// staff may be shown these names.
	SharedWith []string
}

// SharedWarning is what staff are told when the contact's address is also a
// contact of other orgs (SharedWith); empty when it is not.
func (c Contact) SharedWarning() string {
	if len(c.SharedWith) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is also a contact of %s: its mail may now ask for unlocks in each of these orgs, "+
		"and a username found in more than one of them is queued for staff instead of being unlocked.",
		c.Email, strings.Join(c.SharedWith, ", "))
}

// Normalize trims the spaces around c's name and checks c as it will be
// stored: an address, already normalised by internal/address, within
// MaxEmailBytes, and an optional name (CheckName). It returns the first
// problem, naming its field.
func (c *Contact) Normalize() error {
	if c.Email == "" {
		return invalidf("email is empty: a contact needs an address")
	}
	if err := CheckEmail("email", c.Email); err != nil {
		return err
	}
	name, err := CheckName("name", c.Name)
	c.Name = name
	return err
}
