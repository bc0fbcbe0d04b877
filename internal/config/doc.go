// Package config owns unlockd's configuration file: the typed [Config], its
// defaults, and the rules that decide whether a configuration is usable.
//
// [Load] reads a YAML file and returns either a ready-to-use *Config or an
// error. Everything that can be wrong with a file is reported at once in a
// single [*Problems] error, one "key.path: message (line N)" per problem:
// unknown keys, values of the wrong type, unset environment variables,
// unreadable secret files and every failed validation rule. Only a YAML
// syntax error is reported alone, because nothing after it can be trusted.
//
// The pipeline is:
//
//  1. parse the file into a yaml.Node tree;
//  2. walk the tree against the yaml tags of [Config], rejecting unknown
//     and duplicate keys, expanding ${VAR} and ${VAR:-default} inside
//     scalar values (never keys, and only after parsing, so an environment
//     value can never add YAML structure) and decoding each value on top
//     of the defaults from [Default];
//  3. make relative ca_file, *_file and templates_dir paths relative to the
//     directory of the configuration file;
//  4. read the *_file secrets (database.dsn_file, mailboxes[i].imap.password_file,
//     smtp.password_file) into their plain counterparts;
//  5. run [Config.Validate].
//
// A key that is present but empty (or null) keeps its default. Nothing in
// this package reads process globals: the environment is passed to [Load]
// as a lookup function, and the package has no clock.
package config
