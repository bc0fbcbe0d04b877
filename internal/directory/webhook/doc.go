// Package webhook is the webhook directory: unlockd calls the host
// application over HTTPS with signed JSON requests, for applications that
// would rather be called than give unlockd access to their database.
//
// # Requests
//
// Each operation is a POST of a JSON object to the configured URL plus
// the operation's name, with Content-Type application/json and the
// signature header (see Sign and Verify):
//
//	POST {url}/lookup  {"org": "acme", "usernames": ["ann", "bob"]}
//	                   → {"users": [USER, ...]}   the accounts found, each once
//	POST {url}/unlock  {"org": "acme", "username": "ann", "lock_reason": "failed_logins",
//	                    "locked_at": "2026-11-30T09:15:42.123456789Z", "mark": "..."}
//	                   → {"result": "unlocked" | "not_locked" | "lock_changed" | "not_found"}
//	POST {url}/lock    {"org": "acme", "username": "ann", "note": "laptop stolen"}
//	                   → {"result": "locked" | "already_locked" | "not_found"}
//	POST {url}/list    {"org": "acme", "limit": 500}
//	                   → {"users": [USER, ...]}   locked accounts, at most limit
//	POST {url}/ping    {}  → {"result": "ok"}
//
//	USER = {"username": "ann", "display_name": "Ann", "email": "ann@acme.example",
//	        "locked": true, "lock_reason": "failed_logins" | "admin",
//	        "locked_at": RFC 3339, "lock_expires": RFC 3339 or absent,
//	        "lock_note": "...", "locked_by": "...", "mark": "..."}
//
// "locked" is required; a locked user needs "lock_reason" and
// "locked_at". "mark" is the application's own record of the lock, at
// most 1024 bytes, given back verbatim with the unlock (locked_at when
// absent). An unlock must lift only the lock described — same reason,
// same time, same mark — and answer "lock_changed" otherwise, so that an
// admin lock set since the lookup is never lifted.
//
// # Answers
//
// 200 with the JSON above, decoded strictly: an unknown field, a second
// value, a user not asked for or listed twice, or an unknown result is a
// permanent error, never an unlock. Bodies are limited to MaxResponseBytes.
// 5xx, 408, 429 and network errors are retried with backoff, up to
// max_attempts within the timeout, then the call fails Temporary (the
// request waits and is retried later). Any other status is a permanent
// error quoting {"error": "..."} from the body (or its text), cleaned
// and cut short. Redirects are not followed. A retried unlock the
// application had already applied answers "not_locked", which unlockd
// records as such.
//
// # Signature
//
//	Unlockd-Signature: t=1796030142,n=6a1f0c3e9b2d4e5f8a7b6c5d4e3f2a1b,v1=9eb80105e64bf500f419e0c1a2405254ff01f52edaaa752d99904c07a53ea5d5
//
// t is the Unix time of signing; n a nonce, 16 to 64 letters and digits,
// new for every request sent (a retry included); v1 the lowercase hex
// HMAC-SHA256, keyed with the shared secret, of t, a full stop, n, a full
// stop and the exact body bytes. The receiver recomputes it over the raw
// body before parsing it, compares in constant time, refuses a t more than
// 5 minutes from its clock, and refuses a nonce it has accepted within
// those 5 minutes (a replay). Several v1 values may be sent while a secret
// is rotated; one must match. The example above signs
// {"org":"acme","usernames":["ann"]} with the secret "correct horse
// battery staple"; check an implementation with
//
//	printf %s '1796030142.6a1f0c3e9b2d4e5f8a7b6c5d4e3f2a1b.{"org":"acme","usernames":["ann"]}' | openssl dgst -sha256 -hmac 'correct horse battery staple'
package webhook
