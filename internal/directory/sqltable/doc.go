// Package sqltable is the sql directory: the host application's own users
// table in PostgreSQL (lib/pq) or MySQL/MariaDB (go-sql-driver/mysql),
// read and changed through statements written in the configuration.
//
// # Statements and their parameters
//
// Statements use named parameters, :name, which Open rewrites into the
// driver's placeholders ($n or ?). A :name inside a string literal, a
// quoted identifier, a dollar-quoted string or a comment is text, as are
// "::type" casts and a colon straight after a word or number (a[1:2]).
// Positional placeholders ($1, ?) are refused. Each statement takes these
// parameters (an unknown one is a
// configuration error naming the statement):
//
//	lookup        :org :username                                (both required)
//	unlock        :org :username :locked_at (required) :lock_reason :now
//	lock          :org :username (required) :note :now
//	list          :org (required) :limit
//	set_password  :org :username :password_hash (required) :now
//
// :org is the org's slug: every statement must use it, so that orgs sharing
// a table never reach each other's rows. :locked_at and :lock_reason are
// the lock as Lookup returned it (its locked_at column, exactly, and the raw
// lock_reason value); :now is the current time (UTC); :limit the most rows
// wanted; :password_hash the new password hashed with password_scheme
// (argon2id in PHC form, or bcrypt).
//
// Every statement is prepared at Open: one that does not compile or
// prepare is a configuration error naming it. Lookup, unlock and lock run
// once per username; unlock, lock and set_password run in a transaction
// that is committed only when exactly one row was affected (MySQL counts
// matched rows), so a statement that reaches two rows changes nothing.
//
// # The rows lookup and list return
//
// Columns are read by name (alias them with AS); any other name is an
// error:
//
//	username      text, required: the account's exact username
//	display_name  text
//	email         text
//	locked        boolean (or 0/1), required
//	lock_reason   text, required: a value in failed_reasons is a failed-login
//	              lock that email may lift; any other value, NULL included,
//	              is an admin lock
//	locked_at     timestamp, required; must not be NULL on a locked row
//	lock_expires  timestamp: when a temporary lock lifts itself
//	lock_note     text
//	locked_by     text
//
// Only a row whose username equals the one asked for, byte for byte,
// counts: a case-insensitive collation cannot answer for another account.
// Two such rows are a permanent error. On MySQL, whose default collations
// ignore case, compare usernames with a _bin collation or BINARY in every
// statement; otherwise an unlock of "ann" that also reaches "Ann" is
// refused (two rows), never applied to both. A lock's Mark is locked_at in UTC as
// RFC 3339 with nanoseconds, a space and the raw lock_reason; Unlock gives
// them back as :locked_at and :lock_reason.
//
// # Unlock
//
// One row affected is an unlock. None: the account is looked up again:
// not locked any more is domain.ErrNotLocked, a different lock
// domain.ErrLockChanged, no account domain.ErrNotFound, and the same lock
// a permanent error saying the statement's WHERE does not match it.
//
// # Errors
//
// Every call runs under the timeout. Connection failures, timeouts,
// deadlocks, serialization failures, lock waits and server shutdowns are
// domain.Temporary; everything else (syntax, permissions, constraints,
// unexpected rows) is permanent. On PostgreSQL a server that goes silent
// fails a call at most pgGrace after the timeout.
package sqltable
