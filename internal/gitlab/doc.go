// Package gitlab is the only package that speaks HTTP to GitLab. It is a
// client and nothing more: it reads groups and projects, job token
// settings and allowlists, authentication logs, repository trees and files
// through the official client-go REST client and its GraphQL Do, pages,
// retries and paces, and returns inventory data types (never client-go
// types) and per-project Problems. Which files to read, and when, is
// package live's business.
//
// # Request plan
//
// GitLab's GraphQL limits (complexity 250 and depth 20 for an
// authenticated user, 50 paths in projects(fullPaths:), 100 items a page)
// decide the batch sizes; package schema computes a query's complexity as
// GitLab does, and a batch GitLab still refuses as too complex is split.
//
//   - REST: /version, then per group /groups/:id, its descendant groups and
//     its projects (subgroups included, archived skipped unless asked).
//   - GraphQL JobTokenSettings (17.9+; a variant for 17.9): inbound
//     setting, allowlist entries with fine-grained policies, first page of
//     the authentication log, 50 projects a request. Before 17.9: REST, one
//     project at a time (no policies), plus the AuthLogs batch from 17.6.
//   - GraphQL ProjectTreesAndFiles (16.6+): each repository's file list and
//     its CI configuration, 50 projects a request.
//   - Then the files its caller wants (package live asks in rounds) are
//     fetched with ProjectFiles, many projects and paths a request, into
//     the caller's FileStore. Before 16.6: REST, one file at a time.
//
// Permission gaps (job token data needs Maintainer) are per-project
// Problems. Every request is a read; 429, 5xx, timeouts and dropped
// connections are retried with backoff, waiting as Retry-After or
// RateLimit-Reset say, and all workers pause when RateLimit-Remaining says
// the window is spent.
//
// Every GraphQL document it sends is a file in queries/, validated against
// the schema in package schema by the tests.
package gitlab
