// Package joblog reads CI job logs for job-token failure signatures
// (GitLab's allowlist and fine-grained policy denials, git, registry,
// package manager and API errors) and traces each to the caller → callee
// edge it is about: whether the edge is approved, denied or unknown to the
// reviewed intent, whether the scan found it, and what to do — including
// saying so when a failure is not a job-token problem at all, so that nobody
// widens an allowlist to silence it. It backs `tokenscope diagnose`; input
// problems in tokenscope's own files are package diag's business.
package joblog
