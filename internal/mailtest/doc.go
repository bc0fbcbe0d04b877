// Package mailtest starts real mail protocol peers inside the test
// process: an IMAP server backed by go-imap's imapmemserver, so that intake
// tests speak the real protocol over a real loopback socket.
package mailtest
