// Package mailtest starts real mail protocol peers inside the test
// process: an IMAP server backed by go-imap's imapmemserver, an SMTP server
// built on go-smtp that fails on demand, and a TCP proxy that cuts links,
// so that intake and outbox tests speak the real protocols over real
// loopback sockets.
package mailtest
