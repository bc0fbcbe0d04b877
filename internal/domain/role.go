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
