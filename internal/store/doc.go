// Package store keeps unlockd's state in SQL through sqlx: PostgreSQL
// (lib/pq) in production, an embedded SQLite file (modernc.org/sqlite, pure
// Go) by default. Both engines run the same queries, rebound for their
// placeholders; only the schema migrations differ per dialect.
//
// Public methods own their transaction: everything one operation writes,
// including its audit entries, commits or rolls back together. Every query
// runs under a timeout.
package store
