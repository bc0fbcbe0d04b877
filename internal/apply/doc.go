// Package apply carries out the unlocks decided for orgs whose users live
// in a remote directory (SPEC §5, DESIGN.md "Exactly once, everywhere").
// A decision records such items as applying, in its transaction; after
// the commit the Worker claims them with the outbox's claim-and-mark
// mechanism (internal/claim), calls the directory's conditional
// Directory.Unlock, and records domain.ApplyOutcome in one transaction with
// the audit entry and, once every applying item of the request has its
// answer, the reply. Temporary failures are retried with capped
// exponential backoff, without an attempt limit, until
// limits.directory_apply_max_age has passed; then the item goes to staff.
package apply
