package domain

// Role is what an API token or operator may do (SPEC §1).
type Role string

// Roles. Admin and service are bound to one organisation.
const (
	RoleStaff   Role = "staff"
	RoleAdmin   Role = "admin"
	RoleService Role = "service"
)

// ParseRole checks s names a role.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleStaff, RoleAdmin, RoleService:
		return r, nil
	}
	return "", invalidf("role %q must be staff, admin or service", s)
}

// NeedsOrg reports whether the role is bound to one organisation.
func (r Role) NeedsOrg() bool { return r == RoleAdmin || r == RoleService }

// CheckOrg checks r against the org (slug) it is bound to: admin and
// service need one, staff must have none.
func (r Role) CheckOrg(slug string) error {
	switch {
	case r.NeedsOrg() && slug == "":
		return invalidf("org is required for role %s", r)
	case !r.NeedsOrg() && slug != "":
		return invalidf("org must not be given for role %s", r)
	}
	return nil
}

// ParseOperatorRole checks s names a role an operator (a web-UI account)
// may have: staff or admin. Service roles are for API tokens only.
func ParseOperatorRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleStaff, RoleAdmin:
		return r, nil
	}
	return "", invalidf("role %q must be staff or admin", s)
}
