package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/csvimport"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

const importUsage = "import --config FILE --org SLUG [--org-name NAME] [--directory NAME] [--contacts FILE.csv] [--users FILE.csv]"

// importTimeout bounds the single import transaction; large files take
// longer than one ordinary operation.
const importTimeout = 5 * time.Minute

func cmdImport(ctx context.Context, s streams, args []string) error {
	fs := newFlags("import", importUsage, s)
	cfgPath := configFlag(fs)
	org := fs.String("org", "", "org `SLUG`; created with the default policy when missing")
	orgName := fs.String("org-name", "", "the org's `NAME`: of the org created, or the new name of the org (default: the slug, for a new org)")
	directory := fs.String("directory", "", "the org's directory `NAME`: builtin or one of the configuration's directories[].name (default: unchanged; builtin for a new org)")
	contactsPath := fs.String("contacts", "", "contacts CSV `FILE` with header email,name")
	usersPath := fs.String("users", "", "users CSV `FILE` with header username,display_name,email[,status,lock_reason,lock_note]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config", "org"); err != nil {
		return err
	}
	if *contactsPath == "" && *usersPath == "" && *orgName == "" && *directory == "" {
		return usagef("give --contacts, --users, --org-name, --directory or several")
	}
	if err := orgFlag(*org); err != nil {
		return err
	}
	if *orgName != "" {
		if _, err := domain.RequireName("name", *orgName); err != nil {
			return flagError("org-name", err)
		}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *directory != "" && !cfg.HasDirectory(*directory) {
		return flagError("directory", fmt.Errorf("%q is not configured; it must be builtin or one of directories[].name", *directory))
	}
	// Parse and check every row of both files before opening the database,
	// and report every bad row of both at once.
	var contacts csvimport.Contacts
	var users csvimport.Users
	var bad []error
	if *contactsPath != "" {
		bad = append(bad, parseFile(*contactsPath, func(f *os.File) (err error) {
			contacts, err = csvimport.ParseContacts(f, filepath.Base(*contactsPath))
			return err
		}))
	}
	if *usersPath != "" {
		bad = append(bad, parseFile(*usersPath, func(f *os.File) (err error) {
			users, err = csvimport.ParseUsers(f, filepath.Base(*usersPath), "cli", time.Now())
			return err
		}))
	}
	if err := errors.Join(bad...); err != nil {
		return fmt.Errorf("%w\nnothing was imported", err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	st.Timeout = importTimeout
	res, err := st.ImportOrg(ctx, store.ImportTarget{Slug: *org, Name: *orgName, Directory: *directory},
		contacts.Contacts, users.Users, "cli", "cli")
	var conflicts *store.ImportConflicts
	if errors.As(err, &conflicts) {
		var b strings.Builder
		for _, c := range conflicts.Conflicts {
			if c.Contact != "" {
				fmt.Fprintf(&b, "%s line %d: %v\n", filepath.Base(*contactsPath), contacts.Lines[c.Contact], c)
			} else {
				fmt.Fprintf(&b, "%s line %d: %v in org %s\n", filepath.Base(*usersPath), users.Lines[c.Username], c, *org)
			}
		}
		return fmt.Errorf("%snothing was imported", b.String())
	}
	if err != nil {
		return fmt.Errorf("%w; nothing was imported", err)
	}
	created := ""
	if res.OrgCreated {
		created = " (org created)"
	}
	fmt.Fprintf(s.stderr, "imported %d contact(s) and %d user(s) into %s%s\n", res.Contacts, res.Users, *org, created)
	return warnShared(ctx, s, st, *org, contacts.Contacts)
}

// warnShared warns about each imported contact whose address other orgs
// have as a contact too.
func warnShared(ctx context.Context, s streams, st *store.Store, org string, imported []domain.Contact) error {
	if len(imported) == 0 {
		return nil
	}
	all, err := st.Contacts(ctx, org)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, c := range imported {
		mine[c.Email] = true // normalised by csvimport
	}
	for _, c := range all {
		if w := c.SharedWarning(); w != "" && mine[c.Email] {
			fmt.Fprintln(s.stderr, "warning:", w)
		}
	}
	return nil
}

func parseFile(path string, parse func(*os.File) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(f)
}
