package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Prepared statements, for the queries every API call makes (its token,
// its user, an unlock's writes). PostgreSQL then parses and plans each
// query once per connection instead of on every call, which on the API's
// hot paths is most of the server's work. database/sql prepares a
// statement on each pooled connection the first time it runs there, and
// again on a new connection after a reconnect.
//
// Queries are kept by their text in "?" form; every one is built from
// constants, so the cache holds a bounded set. A statement is first
// prepared outside any transaction (prepared, or warm before one
// begins): preparing takes a connection of its own, which inside a
// transaction could wait for the very connection the transaction holds
// (SQLite has only one). Inside a transaction, a statement not prepared
// yet runs as a one-off query.
type statements struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepared returns query's statement, prepared on first use. A failure is
// not kept: the next call prepares again. The caller must hold no
// connection of the pool (no open transaction).
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st := s.cached(query); st != nil {
		return st, nil
	}
	st, err := s.db.PreparexContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if prev, ok := s.stmts.m[query]; ok { // prepared meanwhile by another call
		st.Close()
		return prev, nil
	}
	if s.stmts.m == nil {
		s.stmts.m = make(map[string]*sqlx.Stmt)
	}
	s.stmts.m[query] = st
	return st, nil
}

func (s *Store) cached(query string) *sqlx.Stmt {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	return s.stmts.m[query]
}

// warm prepares queries before a transaction that runs them begins.
func (s *Store) warm(ctx context.Context, queries ...string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	for _, q := range queries {
		if _, err := s.prepared(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// stmtFor is query ready to run on q, the pool or one of its
// transactions: prepared when it can be (see statements).
func (s *Store) stmtFor(ctx context.Context, q queryer, query string) (stmt, error) {
	tx, inTx := q.(*sqlx.Tx)
	if !inTx {
		st, err := s.prepared(ctx, query)
		return stmt{prep: st}, err
	}
	if st := s.cached(query); st != nil {
		return stmt{prep: tx.StmtxContext(ctx, st)}, nil
	}
	return stmt{q: tx, query: tx.Rebind(query)}, nil
}

// stmt is a query ready to run: a prepared statement, or else the query's
// text and where to run it.
type stmt struct {
	prep  *sqlx.Stmt
	q     queryer
	query string
}

func (st stmt) exec(ctx context.Context, args ...any) (sql.Result, error) {
	if st.prep != nil {
		return st.prep.ExecContext(ctx, args...)
	}
	return st.q.ExecContext(ctx, st.query, args...)
}

func (st stmt) queryRow(ctx context.Context, args ...any) *sqlx.Row {
	if st.prep != nil {
		return st.prep.QueryRowxContext(ctx, args...)
	}
	return st.q.QueryRowxContext(ctx, st.query, args...)
}

// closeStatements closes every prepared statement, before the pool closes.
func (s *Store) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
}
