// Package inventory holds the org model (server, groups, projects, their
// job token settings and authentication logs) and the snapshot directory
// format that every offline command reads: inventory.yaml plus one folder
// of repository files per project (docs/design.md §4). It also derives the
// predefined CI/CD variables a project's jobs see.
package inventory
