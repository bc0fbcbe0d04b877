// Package domain holds unlockd's core model: organisations and their security
// policy, authorised contacts, users and their locks, unlock requests, audit
// entries, and the pure rules that decide what happens to them.
//
// It imports nothing outside the standard library and does no I/O: adapters
// (store, mail intake, web) load state, call the rules here and persist the
// result.
package domain
