// Package demo runs the whole of unlockd in one process for a first look,
// with no configuration and nothing installed beyond Go: an SQLite store in
// a temporary folder, an in-process IMAP server holding the support
// mailbox, an in-process SMTP sink that captures replies, and the real
// program (internal/app) between them.
//
// Run seeds an organisation with an authorised contact, locked and active
// users and a staff operator; delivers four sample requests (verified,
// forged, for an admin-locked user, and an out-of-office auto-reply);
// prints each decision and the mail it produced as they happen; then keeps
// the HTTP server up until its context ends.
//
// Sample mail is DKIM-signed with a key made at start and served through
// app.Options.LookupTXT, so the demo authenticates senders exactly as
// production does.
package demo
