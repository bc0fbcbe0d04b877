// Package outbox owns outgoing mail: it renders replies and notifications
// from the templates package (with operator overrides from templates_dir)
// and delivers the store's outbox over SMTP.
//
// Rendering happens inside the decision's transaction (Renderer.Decision
// matches store.Renderer), so a reply is queued exactly when its decision
// commits. Delivery (Worker) claims due rows in batches, renews the claims
// with a heartbeat while it works (a dead worker's claims run out within
// seconds), sends each batch over one SMTP connection, records each
// success the moment its transaction ends, and retries temporary failures
// with capped exponential backoff and jitter until smtp.max_attempts, after
// which a row is dead-lettered. Permanent (5xx) failures are dead-lettered
// at once. A connection that cannot be had tries no mail and counts no
// attempt: the worker waits it out with a backoff of its own.
package outbox
