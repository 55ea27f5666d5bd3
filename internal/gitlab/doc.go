// Package gitlab is the only package that speaks HTTP to GitLab. It reads
// what a snapshot needs (groups and projects, job token settings and
// allowlists, authentication logs, and the repository files discovery
// reads) through the official client-go REST client and its GraphQL Do,
// batching with GraphQL within GitLab's complexity and depth limits, with
// bounded concurrency, rate-limit pacing and retries. It returns inventory
// types, never client-go types.
//
// Every GraphQL document it sends is a file in queries/, validated against
// the schema in package schema by the tests.
package gitlab
