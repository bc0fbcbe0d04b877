package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
)

// TestImportNamesEveryBadRow: import reports every bad row of both files
// at once, with the same limits and words as the API (names and addresses),
// and then every row already on record at once; nothing is written either
// time.
func TestImportNamesEveryBadRow(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK)
		dir := t.TempDir()
		users := writeFile(t, dir, "users.csv", "username,display_name,email\n"+
			"ok,OK,\n"+
			"bad user,Bad,\n"+ // 3
			"ann,Ann,not-an-address\n"+ // 4
			"bob,"+strings.Repeat("x", 201)+",\n"+ // 5
			"ok,OK again,\n"+ // 6
			",Nobody,\n") // 7
		contacts := writeFile(t, dir, "contacts.csv", "email,name\nit@acme.example,IT\n"+strings.Repeat("a", 250)+"@acme.example,Long\n")
		r := runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--contacts", contacts, "--users", users)
		r.want(t, exitFailure,
			"contacts.csv line 3: email is longer than 254 bytes",
			`users.csv line 3: username "bad user" contains a character that is not allowed`,
			`users.csv line 4: email "not-an-address" is not a valid email address`,
			"users.csv line 5: display_name is longer than 200 bytes",
			`users.csv line 6: username "ok" is also on line 2`,
			"users.csv line 7: username is empty",
			"nothing was imported")
		s := openConfigStore(t, cfg)
		if _, err := s.Org(context.Background(), "acme"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("org after a refused import: %v, want none", err)
		}

		// Rows already on record: every one of them is named.
		good := writeFile(t, dir, "good.csv", "username,display_name,email\nann,Ann,\nbob,Bob,\ncarol,Carol,\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--users", good).want(t, exitOK)
		again := writeFile(t, dir, "again.csv", "username,display_name,email\nann,Ann,\nnew,New,\ncarol,Carol,\nbob,Bob,\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--users", again).want(t, exitFailure,
			`again.csv line 2: user "ann" already exists in org acme`, `again.csv line 4: user "carol" already exists`,
			`again.csv line 5: user "bob" already exists`, "nothing was imported")
		if _, err := s.User(context.Background(), "acme", "new"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("partial import: new = %v", err)
		}
	})
}

// TestCheckConfigSQLiteFolder: an SQLite file in a folder that does not
// exist is a configuration problem naming the key and the folder.
func TestCheckConfigSQLiteFolder(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such")
	cfg := writeFile(t, dir, "u.yaml", "database:\n  driver: sqlite\n  dsn: "+filepath.Join(missing, "u.db")+"\n")
	runCLI(t, "", "check-config", "--config", cfg).want(t, exitUsage, "database.dsn: the folder "+missing+" of the SQLite file")
	runCLI(t, "", "migrate", "--config", cfg).want(t, exitUsage, "database.dsn", missing)
}

// TestReadmeConfigurationsCheck reads every YAML example out of README.md
// and runs check-config on it, with the environment and secret files a
// production host would provide: the README's own production example must
// be a working configuration.
func TestReadmeConfigurationsCheck(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 2 {
		t.Fatalf("README.md has %d YAML examples, want the production example and the database one", len(blocks))
	}
	production := false
	for i, b := range blocks {
		dir := t.TempDir()
		// Each example is indented as in its list item.
		yaml := dedent(b[1])
		for _, secret := range regexp.MustCompile(`/run/secrets/(\w+)`).FindAllStringSubmatch(yaml, -1) {
			writeFile(t, dir, secret[1], "secret-"+secret[1]+"\n")
		}
		yaml = strings.ReplaceAll(yaml, "/run/secrets/", dir+"/")
		production = production || strings.Contains(yaml, "mailboxes:")
		cfg := writeFile(t, dir, "unlockd.yaml", yaml)
		t.Setenv("UNLOCKD_DATABASE_DSN", "postgres://unlockd@db.internal:5432/unlockd?sslmode=verify-full")
		r := runCLI(t, "", "check-config", "--config", cfg)
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("README YAML example %d: exit %d, stderr:\n%s\n%s", i+1, r.code, r.stderr, yaml)
		}
	}
	if !production {
		t.Error("no README example configures a mailbox: the production example is missing")
	}
}

// dedent removes the indentation of the first line from every line.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := lines[0][:len(lines[0])-len(strings.TrimLeft(lines[0], " "))]
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, indent)
	}
	return strings.Join(lines, "\n")
}
