package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree against a Go value, following the yaml
// struct tags. Unlike yaml's own decoder it reports every unknown key,
// duplicate key and badly typed value with its key path and line, expands
// environment references in scalar values, and keeps going after a problem.
type decoder struct {
	getenv   func(string) (string, bool)
	problems *Problems
	// lines maps each key path seen to the line its value starts on, so
	// that later validation problems can point into the file too.
	lines map[string]int
}

// defaulter is implemented by list elements that have defaults of their
// own (Mailbox); the decoder calls setDefaults before decoding into one.
type defaulter interface{ setDefaults() }

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// maxMergeDepth bounds nested "<<" merges.
const maxMergeDepth = 32

// add records a problem at path, pointing at n's line.
func (d *decoder) add(path string, n *yaml.Node, format string, args ...any) {
	d.addHint(path, n, "", format, args...)
}

// addHint is add with a hint printed after the line number.
func (d *decoder) addHint(path string, n *yaml.Node, hint, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg += " (line " + strconv.Itoa(n.Line) + ")"
	}
	msg += hint
	p := Problem{Path: path, Message: msg}
	for _, q := range d.problems.List {
		if q == p {
			return // the same node reached twice through an alias
		}
	}
	d.problems.List = append(d.problems.List, p)
}

// value decodes n into v, which must be addressable.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = unalias(n)
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		d.scalar(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	default:
		d.scalar(n, v, path)
	}
}

// mapping decodes a YAML mapping into the struct v.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(path, n, "expected a mapping of keys, got %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	for _, kv := range d.pairs(n, path, 0) {
		p := joinPath(path, kv.key.Value)
		i, ok := fields[kv.key.Value]
		if !ok {
			hint := ""
			if s := suggest(kv.key.Value, fields); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			d.addHint(p, kv.key, hint, "unknown key")
			continue
		}
		if _, ok := d.lines[p]; !ok {
			d.lines[p] = kv.key.Line
		}
		d.value(kv.val, v.Field(i), p)
	}
}

type pair struct{ key, val *yaml.Node }

// pairs lists the key/value pairs of mapping n, resolving "<<" merge keys
// (the mapping's own keys win, then earlier merged mappings over later
// ones) and reporting duplicate and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(val, path, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(path, k, "keys must be plain names, got %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.add(joinPath(path, k.Value), k, "duplicate key, first set on line %d", line)
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, pair{k, val})
	}
	out := own
	for _, kv := range merged {
		if _, taken := seen[kv.key.Value]; !taken {
			seen[kv.key.Value] = kv.key.Line
			out = append(out, kv)
		}
	}
	return out
}

// merge returns the pairs a "<<" key brings in: a mapping or a list of them.
func (d *decoder) merge(val *yaml.Node, path string, depth int) []pair {
	if depth >= maxMergeDepth {
		d.add(path, val, "merge keys nested too deeply")
		return nil
	}
	val = unalias(val)
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path, depth+1)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range val.Content {
			item = unalias(item)
			if item.Kind != yaml.MappingNode {
				d.add(path, item, "a merge key takes a mapping or a list of mappings, got %s", describe(item))
				continue
			}
			for _, kv := range d.pairs(item, path, depth+1) {
				if !containsKey(out, kv.key.Value) {
					out = append(out, kv)
				}
			}
		}
		return out
	default:
		d.add(path, val, "a merge key takes a mapping or a list of mappings, got %s", describe(val))
		return nil
	}
}

// sequence decodes a YAML list into the slice v, replacing its contents.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.add(path, n, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.value(item, e, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// scalar expands environment references in n's value and decodes it into
// v. A null or empty-after-expansion value leaves v at its default.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.add(path, n, "expected a single value, got %s", describe(n))
		return
	}
	c := *n // never modify the tree: an aliased node may be decoded twice
	if strings.Contains(c.Value, "${") {
		s, err := expand(c.Value, d.getenv)
		if err != nil {
			d.add(path, n, "%v", err)
			return
		}
		if s == "" {
			return
		}
		// The expanded text is a value, never YAML: strings stay strings,
		// and other types are resolved from the text alone.
		c.Value, c.Style = s, 0
		c.Tag = ""
		if v.Kind() == reflect.String {
			c.Tag = "!!str"
		}
	}
	if c.ShortTag() == "!!null" {
		return
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(&c); err != nil {
			d.add(path, n, "%v", err)
		}
		return
	}
	if err := c.Decode(v.Addr().Interface()); err != nil {
		if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
			d.add(path, n, "expected %s, got %q", typeName(v.Type()), c.Value)
			return
		}
		d.add(path, n, "%v", err)
	}
}

// yamlFields maps the yaml key of each field of struct type t to its index.
func yamlFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

// suggest returns the known key closest to an unknown one, if it is close.
func suggest(key string, fields map[string]int) string {
	best, bestDist := "", min(3, len(key)/2+1)
	for name := range fields {
		if dist := editDistance(key, name); dist < bestDist || dist == bestDist && name < best {
			best, bestDist = name, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func containsKey(ps []pair, key string) bool {
	for _, p := range ps {
		if p.key.Value == key {
			return true
		}
	}
	return false
}

func unalias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names the kind of a node for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	default:
		return "nothing"
	}
}

// typeName names a Go type the way a configuration writer thinks of it.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	default:
		return t.String()
	}
}
