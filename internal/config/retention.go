package config

import "time"

// signatureSkew is how far ahead of unlockd's clock a DKIM signature may
// be dated and still count (senderauth's clockSkew).
const signatureSkew = time.Hour

// validateRetention checks the limits.*retention keys: none negative, and
// limits.retention, when set, long enough that deleting a decision never
// removes protection still needed: its queued requests expire first
// (request_ttl), and its signature keys, which stop a replay of the
// message, outlive every signature that could still count
// (max_signature_age, plus the hour a signature may be dated ahead).
func (c *Config) validateRetention(ps *Problems) {
	l := &c.Limits
	for _, d := range []struct {
		key string
		v   Duration
	}{{"retention", l.Retention}, {"mail_retention", l.MailRetention}, {"audit_retention", l.AuditRetention}} {
		if d.v < 0 {
			ps.add("limits."+d.key, "must not be negative (0 keeps records for good)")
		}
	}
	if l.Retention <= 0 {
		return
	}
	if l.Retention < l.RequestTTL {
		ps.add("limits.retention", "%s is shorter than limits.request_ttl %s: queued requests must expire before they are deleted", l.Retention, l.RequestTTL)
	}
	if need := c.SenderAuth.MaxSignatureAge + Duration(signatureSkew); c.SenderAuth.MaxSignatureAge > 0 && l.Retention < need {
		ps.add("limits.retention", "%s is shorter than sender_auth.max_signature_age plus an hour (%s): a decided message could be replayed once its decision is deleted", l.Retention, need)
	}
}
