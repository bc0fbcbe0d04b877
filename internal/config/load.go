package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration file at path and returns it decoded,
// completed with defaults, with its *_file secrets read, and validated.
//
// getenv looks up the environment variables referenced as ${VAR} or
// ${VAR:-default} in values; pass os.LookupEnv in production. A nil getenv
// behaves as an empty environment.
//
// Relative ca_file, *_file and templates_dir paths are taken relative to
// the directory holding the file. Every problem found is returned together
// in a [*Problems]; a file that cannot be read or is not valid YAML yields
// a plain error naming the file.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return parse(data, path, dir, getenv)
}

// Parse is [Load] for a document already in memory. Relative paths in it
// are taken relative to dir; an empty dir leaves them relative to the
// working directory.
func Parse(data []byte, dir string, getenv func(string) (string, bool)) (*Config, error) {
	return parse(data, "", dir, getenv)
}

func parse(data []byte, name, dir string, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = noEnv
	}
	root, err := parseYAML(data)
	if err != nil {
		if name != "" {
			return nil, fmt.Errorf("config: %s: %w", name, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}

	cfg := Default()
	// The SQLite file name is applied after decoding, so that
	// "driver: postgres" without a dsn is reported instead of silently
	// pointing PostgreSQL at unlockd.db.
	cfg.Database.DSN = ""
	ps := &Problems{}
	d := &decoder{getenv: getenv, problems: ps, lines: make(map[string]int)}
	if root != nil {
		d.value(root, reflect.ValueOf(cfg).Elem(), "")
	}
	if cfg.Database.Driver == DriverSQLite && cfg.Database.DSN == "" && cfg.Database.DSNFile == "" {
		cfg.Database.DSN = DefaultSQLiteDSN
	}
	cfg.resolvePaths(dir)
	cfg.readSecrets(d)

	var invalid *Problems
	if errors.As(cfg.Validate(), &invalid) {
		for _, p := range invalid.List {
			if ps.has(p.Path) {
				continue // already reported while decoding; the value is not the user's
			}
			if line := d.lineOf(p.Path); line > 0 {
				p.Message += " (line " + strconv.Itoa(line) + ")"
			}
			ps.List = append(ps.List, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML parses exactly one YAML document and returns its root node,
// or nil for an empty document.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("more than one YAML document (line %d)", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// lineOf returns the line of the value at path, or of its closest
// enclosing key when path itself is absent from the file; 0 if unknown.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if line, ok := d.lines[path]; ok && line > 0 {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// resolvePaths makes the relative file and directory paths absolute
// against dir, the directory of the configuration file.
func (c *Config) resolvePaths(dir string) {
	if dir == "" {
		return
	}
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.Database.DSNFile)
	for i := range c.Mailboxes {
		abs(&c.Mailboxes[i].IMAP.CAFile)
		abs(&c.Mailboxes[i].IMAP.PasswordFile)
	}
	for i := range c.Directories {
		abs(&c.Directories[i].CAFile)
		abs(&c.Directories[i].BindPasswordFile)
		abs(&c.Directories[i].DSNFile)
		abs(&c.Directories[i].SecretFile)
	}
	abs(&c.SMTP.CAFile)
	abs(&c.SMTP.PasswordFile)
	abs(&c.HTTP.MetricsTokenFile)
	abs(&c.TemplatesDir)
}

// secretRef ties a secret value to the *_file key that may supply it.
type secretRef struct {
	key, fileKey string // full key paths
	value        *string
	file         string
}

// secretRefs lists every secret that has a *_file form.
func (c *Config) secretRefs() []secretRef {
	refs := []secretRef{{"database.dsn", "database.dsn_file", &c.Database.DSN, c.Database.DSNFile}}
	for i := range c.Mailboxes {
		m := &c.Mailboxes[i].IMAP
		base := fmt.Sprintf("mailboxes[%d].imap.", i)
		refs = append(refs, secretRef{base + "password", base + "password_file", &m.Password, m.PasswordFile})
	}
	for i := range c.Directories {
		d := &c.Directories[i]
		base := fmt.Sprintf("directories[%d].", i)
		refs = append(refs, secretRef{base + "bind_password", base + "bind_password_file", &d.BindPassword, d.BindPasswordFile},
			secretRef{base + "dsn", base + "dsn_file", &d.DSN, d.DSNFile},
			secretRef{base + "secret", base + "secret_file", &d.Secret, d.SecretFile})
	}
	return append(refs, secretRef{"smtp.password", "smtp.password_file", &c.SMTP.Password, c.SMTP.PasswordFile},
		secretRef{"http.metrics_token", "http.metrics_token_file", &c.HTTP.MetricsToken, c.HTTP.MetricsTokenFile})
}

// readSecrets replaces each secret that has a *_file with the file's
// contents, without trailing whitespace.
func (c *Config) readSecrets(d *decoder) {
	for _, s := range c.secretRefs() {
		if s.file == "" || d.problems.has(s.fileKey) {
			continue
		}
		line := &yaml.Node{Line: d.lineOf(s.fileKey)}
		if *s.value != "" {
			d.add(s.fileKey, line, "set only one of %s and %s", lastKey(s.key), lastKey(s.fileKey))
			continue
		}
		data, err := os.ReadFile(s.file)
		if err != nil {
			d.add(s.fileKey, line, "cannot read secret: %v", err)
			continue
		}
		v := strings.TrimRight(string(data), " \t\r\n")
		if v == "" {
			d.add(s.fileKey, line, "secret file %s is empty", s.file)
			continue
		}
		*s.value = v
	}
}

func lastKey(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}
