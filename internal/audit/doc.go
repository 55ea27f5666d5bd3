// Package audit compares an org's allowlists with its reviewed intent and
// lists what differs (drift: entries not approved, approved entries
// missing, policies wider or narrower than approved, enforcement off,
// expired approvals, approvals without an owner) and the standing findings
// that are not drift (uses waiting for review, stale approvals, impossible
// accesses, unreviewed drafts), each with its project, entry and what to
// do. It is a view of a plan's decisions plus the checks of the trust
// file, not a second decision engine; acknowledgements in trust.yaml keep
// a finding from failing (docs/design.md §6c).
package audit
