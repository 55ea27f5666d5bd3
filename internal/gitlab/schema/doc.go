// Package schema carries the subset of GitLab's GraphQL schema that
// tokenscope uses (gitlab.graphql, with the GitLab release of every field),
// validates query documents against it, and computes a query's complexity
// and depth the way GitLab does, so that the client can size its batches to
// GitLab's limits and the simulator can refuse what GitLab would refuse.
package schema
