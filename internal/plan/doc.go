// Package plan computes, for every callee project, what its inbound job
// token allowlist must hold: the desired state (discovered edges, the
// reviewed intent in trust.yaml, deny rules) against the current state
// (allowlists in the inventory), as entries to add, keep, update and
// remove, with least-privilege fine-grained policies, edges that need
// review, stale approvals, advice where a job token is the wrong tool, the
// 200-entry limit and the rollout waves; Project.Calls lists the GitLab
// calls that apply a project's plan, in order. Compute is a pure
// function; the plan records a digest of the allowlist state it was
// computed from so that apply can refuse a plan the org has moved past.
package plan
