// Package trust reads, validates and drafts trust.yaml: the reviewed
// intent for CI_JOB_TOKEN access, kept in a repository (docs/design.md §6).
// Load reports every mistake with its line, so a reviewer fixes a file in
// one pass; Draft writes a first version from what discovery found, with
// the evidence of every edge as comments, for a human to review in a merge
// request instead of writing it.
package trust
