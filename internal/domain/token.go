package domain

import "strings"

// CheckTokenName returns an API token's name without the white space
// around it: a name (RequireName) that is not all digits, so that
// `unlockd token revoke NAME|ID` never mistakes one for the other. Live
// tokens' names are unique per org, a constraint of the database.
func CheckTokenName(name string) (string, error) {
	name, err := RequireName("name", name)
	if err != nil {
		return "", err
	}
	if strings.Trim(name, "0123456789") == "" {
		return "", invalidf("name %q must not be all digits: a number names a token by its id", name)
	}
	return name, nil
}
