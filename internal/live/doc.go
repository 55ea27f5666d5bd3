// Package live holds the live snapshot: which files to read from GitLab,
// driven by what discovery finds, in rounds of record and refetch, over the
// pure client in package gitlab.
package live
