// Package web is unlockd's HTTP face (SPEC §8): the JSON API under /api/v1,
// authenticated with Bearer tokens, and the server-rendered web UI at /,
// authenticated with operator sessions and protected against cross-site
// request forgery.
//
// Both call the same actions (actions.go), which call the same store
// services as email intake, so approving in the UI, through the API or by a
// later rule all write the same audit entries and queue the same answers.
//
// Authorisation has one rule, enforced by Principal.Org: staff see every
// organisation; admin and service principals see their own only, and
// anything of another organisation answers 404, exactly like a missing one.
package web
