package app_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/sqltabletest"
	"github.com/unlockd/unlockd/internal/storetest"
)

// appDirectory is an sql directory over db's accounts table.
func appDirectory(db *sqltabletest.App) config.Directory {
	d := config.Directory{Name: "appdb", Kind: config.DirectorySQL, Driver: config.SQLMySQL, DSN: db.DSN,
		Lookup: sqltabletest.Lookup, Unlock: sqltabletest.Unlock, Lock: sqltabletest.Lock, List: sqltabletest.List,
		Timeout: config.Duration(config.DefaultDirectoryTimeout)}
	return d
}

// TestSQLStatementThatDoesNotPrepareStopsTheStart: a statement with a
// syntax error is a configuration problem naming the directory and the
// statement, at serve's start and in check-config --connect.
func TestSQLStatementThatDoesNotPrepareStopsTheStart(t *testing.T) {
	db := sqltabletest.NewApp(t)
	e := storetest.Engines()[0]
	cfg := config.Default()
	cfg.Database = config.Database{Driver: e.Name, DSN: storetest.DSN(t, e)}
	cfg.HTTP.Listen = "127.0.0.1:0"
	d := appDirectory(db)
	d.List = "SELEC login FROM accounts WHERE tenant = :org"
	cfg.Directories = []config.Directory{d}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{})
	var ps *config.Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), `directories[0]: directory "appdb": statement list:`) {
		t.Fatalf("New = %v, want a configuration problem naming the statement", err)
	}
	var failed []app.CheckResult
	app.Check(context.Background(), cfg, func(r app.CheckResult) {
		if r.Err != nil {
			failed = append(failed, r)
		}
	})
	if len(failed) != 1 || failed[0].Name != "directory appdb" || !strings.Contains(failed[0].Err.Error(), "statement list") {
		t.Fatalf("check-config failures = %+v, want directory appdb's statement list", failed)
	}

	cfg.Directories[0].List = sqltabletest.List
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatalf("New with the statements fixed: %v", err)
	}
	a.Close()
}
