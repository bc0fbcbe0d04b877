// Package ldap is the `ldap` directory kind: an organisation's accounts in
// OpenLDAP with the ppolicy overlay, or in Active Directory, reached with
// github.com/go-ldap/ldap/v3 over ldap:// (optionally StartTLS) or ldaps://.
//
// One Directory serves every org that names it. Each call is scoped to
// the org: the search base is Config.BaseDN with {org} replaced by the
// org's slug (DN-escaped), the filter is Config.UserFilter with
// {username} and {org} escaped per RFC 4515, and every entry the server
// returns must lie under that base, or the answer is refused.
//
// OpenLDAP (Server "openldap"): pwdAccountLockedTime holds the lock. The
// value 000001010000Z is a deliberate lock (domain.LockAdmin); any other
// value is a lockout after failed binds (domain.LockFailedLogins), which
// expires pwdLockoutDuration later when the entry's policy
// (pwdPolicySubentry, else Config.DefaultPolicyDN) has one. Unlock is one
// modify that deletes exactly the value looked up (the lock's Mark): if
// the value changed in between, the server refuses it (noSuchAttribute)
// and nothing is lifted. The ppolicy overlay removes pwdFailureTime itself
// when the lock goes (the attribute is NO-USER-MODIFICATION, so a client
// cannot). Lock writes 000001010000Z; its note is kept only in unlockd's
// audit, so no attribute of the entry is overwritten. SetPassword is the
// password-modify extended operation (RFC 3062). Lock times are read as
// written; Expires comes from the policy.
//
// Active Directory (Server "active_directory"): an account is locked out
// when msDS-User-Account-Control-Computed has UF_LOCKOUT (0x10) and
// lockoutTime is above 0 (lockoutTime stays set after a lockout
// expires); userAccountControl with ACCOUNTDISABLE (0x2) is a deliberate
// lock. Unlock is one modify that deletes the exact value looked up and
// adds the cleared one (lockoutTime 0, or userAccountControl without
// ACCOUNTDISABLE), so a changed account is refused. Lock sets
// ACCOUNTDISABLE the same way. SetPassword replaces unicodePwd (the
// quoted password in UTF-16LE). AD's lockout duration is not read: the
// computed flag already says whether a lockout still holds, so Expires
// stays zero. Samba's AD DC, which the tests run, behaves the same.
//
// SetPassword refuses a plain connection for both kinds: a password never
// crosses the network in clear.
//
// Connections are pooled (Config.PoolSize, bound as Config.BindDN) and
// replaced when broken; every network step runs under Config.Timeout.
// Refused connections, timeouts, a server going away and busy or
// unavailable answers are domain.Temporary; every other answer is
// permanent, with a message that names the operation. The bind password
// never appears in an error.
package ldap
