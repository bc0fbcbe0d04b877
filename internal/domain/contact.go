package domain

// Contact is an authorised contact: a person whose mail from the address on
// record may ask for unlocks of their organisation's users.
type Contact struct {
	ID    int64
	OrgID int64
	// Email is the normalised address on record (see internal/address).
	Email string
	Name  string
}
