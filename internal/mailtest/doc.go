// Package mailtest starts real mail protocol peers inside the test
// process: an IMAP server backed by go-imap's imapmemserver, an SMTP server
// built on go-smtp that fails or hangs on demand, a DNS server that can go
// silent, scripted TCP peers (a server that never greets), and a TCP proxy
// that cuts links or stalls them without FIN, so that intake and outbox
// tests speak the real protocols over real loopback sockets.
package mailtest
