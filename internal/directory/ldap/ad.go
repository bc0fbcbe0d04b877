package ldap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// Active Directory's account attributes and flags.
const (
	attrUAC         = "userAccountControl"
	attrLockoutTime = "lockoutTime"
	attrComputed    = "msDS-User-Account-Control-Computed"
	attrUnicodePwd  = "unicodePwd"
	// uacDisable is ACCOUNTDISABLE: a deliberate lock.
	uacDisable = 0x2
	// ufLockout is UF_LOCKOUT in the computed flags: locked out now.
	ufLockout = 0x10
)

// activeDirectory is Microsoft Active Directory (or Samba's AD DC).
type activeDirectory struct{}

func (activeDirectory) attrs() []string { return []string{attrUAC, attrLockoutTime, attrComputed} }

func (activeDirectory) lockedFilter() string {
	// lockoutTime stays set after a lockout expires: lockOf decides.
	return "(|(" + attrLockoutTime + ">=1)(" + attrUAC + ":1.2.840.113556.1.4.803:=2))"
}

// intAttr reads an integer attribute: its value as written, and as a
// number (0 when absent).
func intAttr(e *goldap.Entry, name string) (string, int64, error) {
	v := e.GetEqualFoldAttributeValue(name)
	if v == "" {
		return "", 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("%s %q is not a number", name, v)
	}
	return v, n, nil
}

// Marks are "attr=value" pairs, space-separated: the values Unlock must
// find unchanged.
func mark(pairs ...string) string { return strings.Join(pairs, " ") }

func (activeDirectory) lockOf(e *goldap.Entry) (*domain.Lock, error) {
	uacRaw, uac, err := intAttr(e, attrUAC)
	if err != nil {
		return nil, err
	}
	ltRaw, lt, err := intAttr(e, attrLockoutTime)
	if err != nil {
		return nil, err
	}
	_, computed, err := intAttr(e, attrComputed)
	if err != nil {
		return nil, err
	}
	lockedOut := computed&ufLockout != 0 && lt > 0
	switch {
	case uac&uacDisable != 0:
		m := mark(attrUAC + "=" + uacRaw)
		if lockedOut {
			m = mark(m, attrLockoutTime+"="+ltRaw)
		}
		return &domain.Lock{Reason: domain.LockAdmin, Mark: m}, nil
	case lockedOut:
		return &domain.Lock{Reason: domain.LockFailedLogins, At: fileTime(lt), By: domain.ActorSystem,
			Mark: mark(attrLockoutTime + "=" + ltRaw)}, nil
	}
	return nil, nil
}

// fileTime converts a Windows FILETIME (100 ns since 1601) to a time.
func fileTime(ft int64) time.Time {
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	return time.Unix(ft/1e7-epochDiff, (ft%1e7)*100).UTC()
}

func (activeDirectory) unlock(e *goldap.Entry, was domain.Lock) (*goldap.ModifyRequest, error) {
	req := goldap.NewModifyRequest(e.DN, nil)
	for _, pair := range strings.Fields(was.Mark) {
		name, v, ok := strings.Cut(pair, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("unreadable lock mark %q", was.Mark)
		}
		switch name {
		case attrLockoutTime:
			req.Delete(attrLockoutTime, []string{v})
			req.Add(attrLockoutTime, []string{"0"})
		case attrUAC:
			req.Delete(attrUAC, []string{v})
			req.Add(attrUAC, []string{strconv.FormatInt(n&^uacDisable, 10)})
		default:
			return nil, fmt.Errorf("unreadable lock mark %q", was.Mark)
		}
	}
	if len(req.Changes) == 0 {
		return nil, fmt.Errorf("unreadable lock mark %q", was.Mark)
	}
	return req, nil
}

func (activeDirectory) lock(e *goldap.Entry) (*goldap.ModifyRequest, error) {
	raw, uac, err := intAttr(e, attrUAC)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, fmt.Errorf("%s has no %s (is it a user account?)", e.DN, attrUAC)
	}
	if uac&uacDisable != 0 {
		return nil, nil
	}
	req := goldap.NewModifyRequest(e.DN, nil)
	req.Delete(attrUAC, []string{raw})
	req.Add(attrUAC, []string{strconv.FormatInt(uac|uacDisable, 10)})
	return req, nil
}

func (activeDirectory) setPassword(c *goldap.Conn, dn, password string) error {
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(attrUnicodePwd, []string{unicodePwd(password)})
	return c.Modify(req)
}

// unicodePwd is AD's password value: the password in double quotes,
// encoded as UTF-16LE.
func unicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return string(b)
}
