package sim

import (
	"fmt"
	"slices"
)

// need is what an endpoint asks of a job token on its target project.
type need struct {
	// write: the endpoint changes the project (Developer); otherwise it
	// reads (Reporter on a private project).
	write bool
	// policy is the fine-grained job token policy the endpoint requires
	// (lib/ci/job_token/policies.rb; the endpoint table of
	// https://docs.gitlab.com/ci/jobs/fine_grained_permissions/); "" for
	// an endpoint whose access cannot be controlled that way.
	policy string
	// ownOnly: the access is granted to the job's own project only, and
	// there without a role check (container registry push and delete,
	// build_can_push? and build_can_delete? in
	// app/services/auth/container_registry_authentication_service.rb:
	// requested_project == project).
	ownOnly bool
	// api: the endpoint finds its project with find_project!
	// (lib/api/helpers.rb), which applies authorize_job_token_policies!
	// after read_project. Git and the registry token do not.
	api bool
	// role, when set, is the role the action needs instead of the
	// default (Reporter to read a private project, Developer to write).
	role Role
}

// denial says why authorizeJob refused.
type denial int

const (
	allowed    denial = iota
	denyScope         // not on the target's inbound allowlist
	denyPolicy        // on it, but the entry's policies lack the endpoint's
	denyHidden        // the user cannot see the target (read_project)
	denyRole          // the user's role is too low for the action
	denyOwn           // an own-project-only access from another project
)

// verdict is authorizeJob's answer; callers render it in their protocol.
type verdict struct {
	denial denial
	from   *project // the job's project
	target *project
	policy string // the missing policy, for denyPolicy
}

func (v verdict) ok() bool { return v.denial == allowed }

// scopeMessage is GitLab's text for a caller not on the allowlist, from
// lib/api/helpers.rb (handle_job_token_failure!, MR 163211) and
// lib/gitlab/git_access.rb (:auth_by_job_token_project_not_in_allowlist,
// MR 161795). Both interpolate project.path, the last path segment.
func (v verdict) scopeMessage() string {
	return fmt.Sprintf("Authentication by CI/CD job token not allowed from %s to %s.", v.from.name(), v.target.name())
}

// policyMessage is job_token_policies_unauthorized_message
// (lib/api/helpers.rb), with project.path, the last path segment.
func (v verdict) policyMessage() string {
	if v.policy == "" {
		return "This action is unauthorized for CI/CD job tokens."
	}
	return fmt.Sprintf("Insufficient permissions to access this resource in project %s. The following token permission is required: %s.", v.target.name(), v.policy)
}

// authorizeJob is the one place where a job token's access to a project is
// decided. The caller holds the state's write lock: a successful
// cross-project authorization is recorded in the target's authentication
// log.
//
// The rules, in GitLab's order:
//
//  1. Own-project-only accesses (registry push and delete): allowed on
//     the job's project, refused on any other.
//  2. Ci::JobToken::Scope#accessible? (app/models/ci/job_token/scope.rb):
//     the job's own project is always accessible; otherwise, when the
//     target's inbound scope is enabled (the project setting, or the
//     instance setting enforce_ci_inbound_job_token_scope_enabled,
//     Project#ci_inbound_job_token_scope_enabled?), the job's project or
//     one of its ancestor groups must be on the target's allowlist
//     (Ci::JobToken::Allowlist#includes_project? / includes_group?, which
//     walks parent_groups); when it is not enabled, any project is
//     accessible (the "legacy" path). Public and internal targets skip
//     the scope (ProjectPolicy's project_allowed_for_job_token is
//     public_project? || internal_access? || ...by_scope), with every
//     feature at "Everyone with access"
//     (https://docs.gitlab.com/ci/jobs/ci_job_token/#limit-job-token-scope-for-public-or-internal-projects).
//     A successful cross-project check is captured for the
//     authentication log (Ci::JobToken::Authorization.capture); denials
//     are not.
//  3. The user must be able to see the target (read_project with the
//     scope passed, app/policies/project_policy.rb), else denyHidden:
//     lib/gitlab/git_access.rb#check_project_accessibility! tells the
//     two apart (project_allowed_for_job_token?).
//  4. Fine-grained policies, for API endpoints only
//     (authorize_job_token_policies! in find_project!, lib/api/helpers.rb;
//     Scope#policies_allowed?; GA in 18.3): skipped for the own project
//     and a target whose scope is disabled; otherwise the caller must be
//     on the allowlist (so a public target that is not allowlisting the
//     caller is refused here although read_project passed) and the
//     nearest entry (Allowlist#nearest_scope_for_target_project: the
//     project link, else the closest group link) must have default
//     permissions or the endpoint's policy; an endpoint that names no
//     policy is refused for a fine-grained entry.
//  5. The role the action needs: Reporter to read a private project
//     (read_build, read_package, download_code), Developer to write
//     (https://docs.gitlab.com/user/permissions/).
func (s *Server) authorizeJob(j *job, t *project, n need) (v verdict) {
	v = verdict{from: j.project, target: t}
	defer func() {
		if !v.ok() {
			j.recordDenial(v)
		}
	}()
	u := j.user
	own := t == j.project
	if n.ownOnly {
		// Granted by the build's own abilities alone, without a check of
		// the user (build_can_push?, build_can_delete?).
		if !own {
			v.denial = denyOwn
		}
		return v
	}
	enforced := s.inboundEnabled(t)
	if !own && t.visibility == "private" && enforced && s.allowlistEntry(t, j.project) == nil {
		v.denial = denyScope
		return v
	}
	if !canRead(u, t) {
		v.denial = denyHidden
		return v
	}
	if !own && enforced && s.beh.policies && n.api {
		l := s.allowlistEntry(t, j.project)
		if l == nil || !l.defaultPermissions && (n.policy == "" || !slices.Contains(l.policies, n.policy)) {
			v.denial, v.policy = denyPolicy, n.policy
			return v
		}
	}
	min := RoleGuest
	if t.visibility == "private" {
		min = RoleReporter
	}
	if n.write {
		min = RoleDeveloper
	}
	if n.role != 0 {
		min = n.role
	}
	if u.roleOn(t.path) < min {
		v.denial = denyRole
		return v
	}
	if !own && t.visibility == "private" {
		s.st.recordAuth(t, j.project, s.now())
	}
	return v
}

// allowlistEntry is the nearest inbound allowlist entry of target that
// admits from: its project link, else the link of its closest ancestor
// group (Ci::JobToken::Allowlist, group_links_for_target over
// parent_groups). nil when from is not on the allowlist.
func (s *Server) allowlistEntry(target, from *project) *link {
	if l := findLink(target.projectLinks, from.id); l != nil {
		return l
	}
	for g := from.ns; g != nil; g = g.parent {
		if l := findLink(target.groupLinks, g.id); l != nil {
			return l
		}
	}
	return nil
}
