// Package store keeps unlockd's state in SQL through sqlx: PostgreSQL
// (lib/pq) in production, an embedded SQLite file (modernc.org/sqlite, pure
// Go) by default. Both engines run the same queries, rebound for their
// placeholders; only the schema migrations differ per dialect.
//
// Public methods own their transaction: everything one operation writes,
// including its audit entries, commits or rolls back together. Every query
// runs under a timeout, and a PostgreSQL connection whose server goes
// silent while an answer is due is dropped (pgconn.go): lib/pq alone would
// wait on a half-open link for hours.
package store
