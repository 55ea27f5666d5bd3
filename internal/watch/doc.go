// Package watch is the breakage watch: it lists the recent failed CI jobs
// of the projects in scope, streams their logs through package joblog's
// signatures, and says per callee which job-token failures broke which
// job, and what to do about each.
package watch
