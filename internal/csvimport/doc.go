// Package csvimport parses the CSV files of `unlockd import` (SPEC §6) into
// domain values: contacts (header email,name) and users (header
// username,display_name,email[,status,lock_reason,lock_note]).
//
// It owns the file format and the per-row checks, and nothing else: every
// row of a file is read and validated before the caller writes anything, so
// that an import is all or nothing. A file with any bad row yields no values
// and an *Errors naming each bad row by file and editor line number (the
// header is line 1), up to MaxErrors of them. Conflicts with rows already on
// record are the store's to find; the Lines maps let the caller name the row
// at fault.
//
// The package does no I/O beyond reading the io.Reader it is given.
package csvimport
