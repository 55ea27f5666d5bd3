package rollout

import (
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Outcome is GitLab's answer to one job-token request, as predicted.
type Outcome string

// Outcomes.
const (
	Allowed Outcome = "allowed"
	Refused Outcome = "refused"
)

// Reason says why a request is allowed or refused. The words are part of
// the JSON document (docs/design.md §8c).
type Reason string

// Reasons.
const (
	// NotEnforced: the callee's allowlist is off, so any project's job
	// token may come in (the legacy behaviour).
	NotEnforced Reason = "not-enforced"
	// OpenVisibility: the callee is public or internal and the request is
	// not one the allowlist gates there (Git, registry, trigger).
	OpenVisibility Reason = "visibility"
	// Allowlisted: an entry (the caller, or a group above it) admits it,
	// with the policy the endpoint needs when the entry is fine-grained.
	Allowlisted Reason = "allowlisted"
	// NotAllowlisted: no entry admits the caller.
	NotAllowlisted Reason = "not-allowlisted"
	// PolicyMissing: an entry admits the caller, with fine-grained
	// policies that lack the one the endpoint needs.
	PolicyMissing Reason = "policy-missing"
	// NeverAllowed: a job token can never do this across projects.
	NeverAllowed Reason = "never"
)

// Decision is the predicted answer to one request.
type Decision struct {
	Outcome Outcome
	Reason  Reason
	// Entry is the allowlist entry that admits (or, for PolicyMissing,
	// nearly admits) the caller: a project or group path.
	Entry string
	// Policy is the policy the endpoint needs, for PolicyMissing.
	Policy string
}

// Request is how a use reaches its callee, which decides what GitLab
// checks.
type Request string

// Requests.
const (
	// Git over HTTP: lib/gitlab/git_access.rb checks the allowlist
	// (Ci::JobToken::Scope#accessible?) and the user's download_code,
	// no fine-grained policy.
	Git Request = "git"
	// Registry token: the container registry authentication service
	// (build_read_container_image) checks the allowlist, no policy.
	Registry Request = "registry"
	// Trigger: POST /projects/:id/trigger/pipeline with token=; the
	// pipeline is created if the job's user can read the project through
	// the scope; the trigger API has no policy.
	Trigger Request = "trigger"
	// API: a REST endpoint that finds its project with find_project!
	// (lib/api/helpers.rb), which applies authorize_job_token_policies!
	// after the scope.
	API Request = "api"
)

// RequestOf says how u reaches its callee. A repository read is Git
// unless its evidence names a REST endpoint (Files, Branches, Tags,
// Commits: detect's endpoint table); a use known only from the
// authentication log has no kind and is treated as Git (the scope check
// alone: the log does not say which endpoint was used).
func RequestOf(u use.Use) Request {
	switch u.Access {
	case "", access.RepositoryWrite:
		return Git
	case access.RepositoryRead:
		if strings.Contains(u.Evidence.Detail, "api/v4") || strings.Contains(u.Evidence.Detail, "/repository/") {
			return API
		}
		return Git
	case access.ContainerRead, access.ContainerWrite:
		return Registry
	case access.PipelineTrigger:
		return Trigger
	default:
		return API
	}
}

// Allowlist is one callee's job-token state as GitLab would hold it.
type Allowlist struct {
	// Enforced is "Limit access to this project", or the instance setting.
	Enforced bool
	// Visibility is private, internal or public ("" reads as private).
	Visibility string
	// Projects and Groups are the entries by lower-case path; the callee
	// itself is never needed (own-project access always passes).
	Projects map[string]inventory.Entry
	Groups   map[string]inventory.Entry
}

func newAllowlist(p *inventory.Project) Allowlist {
	a := Allowlist{Projects: map[string]inventory.Entry{}, Groups: map[string]inventory.Entry{}}
	if p == nil {
		return a
	}
	a.Visibility = p.Visibility
	if s := p.JobTokenScope; s != nil {
		a.Enforced = s.InboundEnabled
		for _, e := range s.Allowlist.Projects {
			a.Projects[strings.ToLower(e.Path)] = e
		}
		for _, e := range s.Allowlist.Groups {
			a.Groups[strings.ToLower(e.Path)] = e
		}
	}
	return a
}

func (a Allowlist) clone() Allowlist {
	c := a
	c.Projects, c.Groups = make(map[string]inventory.Entry, len(a.Projects)), make(map[string]inventory.Entry, len(a.Groups))
	for k, v := range a.Projects {
		c.Projects[k] = v
	}
	for k, v := range a.Groups {
		c.Groups[k] = v
	}
	return c
}

// Entries counts the entries, the callee's own excluded.
func (a Allowlist) entries(self string) int {
	n := len(a.Groups) + len(a.Projects)
	if _, ok := a.Projects[strings.ToLower(self)]; ok {
		n--
	}
	return n
}

// nearest is the entry that admits caller: its project entry, else the
// entry of its closest ancestor group (Ci::JobToken::Allowlist
// #nearest_scope_for_target_project, app/models/ci/job_token/allowlist.rb).
func (a Allowlist) nearest(caller string) (inventory.Entry, bool) {
	if e, ok := a.Projects[strings.ToLower(caller)]; ok {
		return e, true
	}
	for ns := inventory.Namespace(caller); ns != ""; ns = inventory.Namespace(ns) {
		if e, ok := a.Groups[strings.ToLower(ns)]; ok {
			return e, true
		}
	}
	return inventory.Entry{}, false
}

// Decide predicts GitLab's answer to caller's job-token request of kind k
// (by req) to the callee whose state is a. policies says whether the
// GitLab version honours fine-grained policies (GA in 18.3; before, behind
// the flag add_policies_to_ci_job_token, entries act with default
// permissions). The triggering user is assumed to hold the role the
// access needs: tokenscope does not read memberships.
//
// The rules follow https://docs.gitlab.com/ci/jobs/ci_job_token/ and
// https://docs.gitlab.com/ci/jobs/fine_grained_permissions/ (source:
// Ci::JobToken::Scope#accessible? and #policies_allowed?,
// app/models/ci/job_token/scope.rb; ProjectPolicy's
// project_allowed_for_job_token; authorize_job_token_policies! in
// lib/api/helpers.rb):
//   - cross-project pushes (git, registry) are never allowed;
//   - an allowlist that is not enforced admits every project;
//   - a public or internal callee admits every project for what is open
//     to everyone; only API endpoints, when policies are honoured, still
//     need an entry (policies_allowed? requires the caller on the list);
//   - otherwise the nearest entry must exist, and for an API endpoint
//     under honoured policies it must have default permissions or the
//     endpoint's policy (an endpoint without a policy refuses a
//     fine-grained entry).
func Decide(a Allowlist, caller string, k access.Kind, req Request, policies bool) Decision {
	if in, ok := access.Lookup(k); ok && in.Never {
		return Decision{Outcome: Refused, Reason: NeverAllowed}
	}
	if !a.Enforced {
		return Decision{Outcome: Allowed, Reason: NotEnforced}
	}
	e, on := a.nearest(caller)
	gated := req == API && policies
	if a.Visibility == "public" || a.Visibility == "internal" {
		if !gated {
			return Decision{Outcome: Allowed, Reason: OpenVisibility}
		}
	}
	if !on {
		return Decision{Outcome: Refused, Reason: NotAllowlisted}
	}
	if gated && len(e.Policies) > 0 {
		in, _ := access.Lookup(k)
		if in.Policy == "" || !slices.Contains(e.Policies, in.Policy) {
			return Decision{Outcome: Refused, Reason: PolicyMissing, Entry: e.Path, Policy: in.Policy}
		}
	}
	return Decision{Outcome: Allowed, Reason: Allowlisted, Entry: e.Path}
}
