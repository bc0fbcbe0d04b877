package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// maxParams bounds the placeholders of one statement, below SQLite's
// default limit (32766) and PostgreSQL's (65535).
const maxParams = 30000

// insertRows inserts rows into table with as few multi-row statements as
// maxParams allows. suffix is appended to each ("ON CONFLICT ... DO
// NOTHING", "RETURNING id, message_key"); with scan set, every returned row
// is passed to it. On PostgreSQL the rows go as one JSON parameter
// (jsonRows) whenever their values allow.
func insertRows(ctx context.Context, tx *sqlx.Tx, table string, columns []string, rows [][]any, suffix string, scan func(*sqlx.Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	if tx.DriverName() == Postgres && len(rows) > 1 {
		if doc, ok := jsonRows(columns, rows); ok {
			cols := strings.Join(columns, ", ")
			return execRows(ctx, tx, table, "INSERT INTO "+table+" ("+cols+") SELECT "+cols+
				" FROM json_populate_recordset(NULL::"+table+", $1) "+suffix, []any{doc}, scan)
		}
	}
	per := max(1, maxParams/len(columns))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(columns))
		for i, r := range chunk {
			if len(r) != len(columns) {
				return fmt.Errorf("store: insert into %s: row of %d values for %d columns", table, len(r), len(columns))
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(one)
			args = append(args, r...)
		}
		if suffix != "" {
			q.WriteString(" " + suffix)
		}
		if err := execRows(ctx, tx, table, tx.Rebind(q.String()), args, scan); err != nil {
			return err
		}
	}
	return nil
}

// execRows runs one insert into table, passing each returned row to scan
// when it is set.
func execRows(ctx context.Context, tx *sqlx.Tx, table, q string, args []any, scan func(*sqlx.Rows) error) error {
	if scan == nil {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
		return nil
	}
	rs, err := tx.QueryxContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := scan(rs); err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
	}
	if err := rs.Close(); err != nil {
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return nil
}

// selectIn runs query, whose one "(?)" takes the values, in chunks that
// keep within maxParams, appending every chunk's rows to dest. before are
// the arguments ahead of the list, after those behind it.
func selectIn[T any](ctx context.Context, tx queryer, dest *[]T, query string, before []any, values []any, after ...any) error {
	per := max(1, maxParams-len(before)-len(after))
	for start := 0; start < len(values); start += per {
		chunk := values[start:min(start+per, len(values))]
		args := append(append(append([]any{}, before...), any(chunk)), after...)
		q, qargs, err := sqlx.In(query, args...)
		if err != nil {
			return err
		}
		var rows []T
		if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(q), qargs...); err != nil {
			return err
		}
		*dest = append(*dest, rows...)
	}
	return nil
}

// anys turns a slice into the []any sqlx.In expands.
func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
