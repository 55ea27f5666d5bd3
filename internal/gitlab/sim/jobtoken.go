package sim

import (
	"slices"
	"strings"
)

// The job token scope services (app/services/ci/job_token_scope/*.rb and
// EditScopeValidations), shared by REST and GraphQL. Their messages are
// GitLab's; REST prefixes them with "400 Bad request - " or
// "403 Forbidden - ", GraphQL returns them in the payload's errors.
const (
	msgInsufficient     = "Insufficient permissions to modify the job token scope"
	msgTargetProjectNA  = "The target_project that you are attempting to access does not exist or you don't have permission to perform this action"
	msgTargetGroupNA    = "The target_group that you are attempting to access does not exist or you don't have permission to perform this action"
	msgDupProjectNew    = "This project is already in the job token allowlist."
	msgDupProjectOld    = "Target project is already in the job token scope"
	msgDupGroupNew      = "This group is already in the job token allowlist."
	msgDupGroupOld      = "Target group is already in the job token scope"
	msgSelfLink         = "Validation failed: Target project can't be the same as the source project"
	msgProjectLimit     = "Validation failed: Source project exceeds the allowable number of project links in this direction"
	msgGroupLimit       = "Validation failed: Source project exceeds the allowable number of group links"
	msgProjectNotListed = "Target project is not in the job token scope"
	msgGroupNotListed   = "Target group is not in the job token scope"
	msgSourceRemoval    = "Source project cannot be removed from the job token scope"
	msgEnforced         = "Job token scope cannot be disabled for this project because it is enforced for the instance."
	msgNoTarget         = "The target does not exist"
	msgUpdateNoPerm     = "You have insufficient permission to update this job token scope"
	msgNoLink           = "Unable to find a job token scope for the given project & target"
	msgUpdateFailed     = "Failed to update job token scope"
)

// Link limits: Ci::JobToken::ProjectScopeLink::PROJECT_LINK_DIRECTIONAL_LIMIT
// and Ci::JobToken::GroupScopeLink::GROUP_LINK_LIMIT, counted separately.
const (
	projectLinkLimit = 200
	groupLinkLimit   = 200
)

// linkRules are what the project and group link tables enforce with
// their own limits and messages: the link limit, the unique index, and
// the removal of a link that is not there.
type linkRules struct {
	limit                int
	msgLimit             string
	msgDupNew, msgDupOld string // newer GitLab, older GitLab
	msgNotListed         string
}

var (
	projectLinkRules = linkRules{projectLinkLimit, msgProjectLimit, msgDupProjectNew, msgDupProjectOld, msgProjectNotListed}
	groupLinkRules   = linkRules{groupLinkLimit, msgGroupLimit, msgDupGroupNew, msgDupGroupOld, msgGroupNotListed}
)

// svcError is a ServiceResponse error; perm marks reason
// :insufficient_permissions, which the REST DELETEs turn into a 403.
type svcError struct {
	msg  string
	perm bool
}

func (e *svcError) Error() string { return e.msg }

func fail(msg string) error     { return &svcError{msg: msg} }
func permFail(msg string) error { return &svcError{msg: msg, perm: true} }

// The caller of every method below holds the state's write lock (or the
// read lock for the read-only ones).

// addProjectLink is AddProjectService (inbound).
func (s *Server) addProjectLink(u *user, src, target *project, defaultPermissions bool, policies []string) (*link, error) {
	if !canAdmin(u, src) {
		return nil, permFail(msgInsufficient)
	}
	if !canRead(u, target) {
		return nil, fail(msgTargetProjectNA)
	}
	if target == src && !s.beh.selfLink {
		return nil, fail(msgSelfLink)
	}
	return s.appendLink(u, &src.projectLinks, projectLinkRules, target.id, defaultPermissions, policies)
}

// addGroupLink is AddGroupService.
func (s *Server) addGroupLink(u *user, src *project, target *group, defaultPermissions bool, policies []string) (*link, error) {
	if !canAdmin(u, src) {
		return nil, permFail(msgInsufficient)
	}
	if !canReadGroup(u, target) {
		return nil, fail(msgTargetGroupNA)
	}
	return s.appendLink(u, &src.groupLinks, groupLinkRules, target.id, defaultPermissions, policies)
}

// appendLink is where both add services end: the limit, the unique index,
// then the new link.
func (s *Server) appendLink(u *user, links *[]*link, r linkRules, target int, defaultPermissions bool, policies []string) (*link, error) {
	if len(*links) >= r.limit {
		return nil, fail(r.msgLimit)
	}
	if findLink(*links, target) != nil {
		if s.beh.newDuplicates {
			return nil, fail(r.msgDupNew)
		}
		return nil, fail(r.msgDupOld)
	}
	l := s.newLink(u, target, defaultPermissions, policies)
	*links = append(*links, l)
	return l, nil
}

// newLink stores policies as given; while the policies flag is off GitLab
// forces default permissions and no policies (Allowlist#add!).
func (s *Server) newLink(u *user, target int, defaultPermissions bool, policies []string) *link {
	l := &link{targetID: target, defaultPermissions: defaultPermissions, policies: normPolicies(policies), createdAt: s.now(), addedBy: u.username}
	if !s.beh.policies {
		l.defaultPermissions, l.policies = true, nil
	}
	return l
}

func normPolicies(in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		out = append(out, strings.ToLower(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// removeProjectLink is RemoveProjectService; target may be nil (unknown
// path in GraphQL), outbound says which direction to remove. It returns
// the removed link, the service's payload
// (app/services/ci/job_token_scope/remove_project_service.rb), which the
// GraphQL mutation hands back as ciJobTokenScopeAllowlistEntry.
func (s *Server) removeProjectLink(u *user, src, target *project, outbound bool) (*link, error) {
	if !canAdmin(u, src) {
		return nil, permFail(msgInsufficient)
	}
	if target == src {
		return nil, fail(msgSourceRemoval)
	}
	if target == nil || outbound {
		// The simulator keeps no outbound links (the outbound scope was
		// removed in 18.0).
		return nil, fail(msgProjectNotListed)
	}
	return dropLink(&src.projectLinks, projectLinkRules, target.id)
}

// removeGroupLink is RemoveGroupService; like removeProjectLink it returns
// the removed link (app/services/ci/job_token_scope/remove_group_service.rb).
func (s *Server) removeGroupLink(u *user, src *project, target *group) (*link, error) {
	if !canAdmin(u, src) {
		return nil, permFail(msgInsufficient)
	}
	if target == nil {
		return nil, fail(msgGroupNotListed)
	}
	return dropLink(&src.groupLinks, groupLinkRules, target.id)
}

// dropLink is where both remove services end.
func dropLink(links *[]*link, r linkRules, target int) (*link, error) {
	i := slices.IndexFunc(*links, func(l *link) bool { return l.targetID == target })
	if i < 0 {
		return nil, fail(r.msgNotListed)
	}
	l := (*links)[i]
	*links = slices.Delete(*links, i, i+1)
	return l, nil
}

// setInbound changes "Limit access to this project". With the instance
// setting on, turning it off is refused with msgEnforced and the setting
// stays on (https://docs.gitlab.com/api/project_job_token_scopes/:
// inbound_enabled "can be true due to the Enforce job token allowlist
// instance setting"; python-gitlab's functional test against 18.9.2-ee is
// xfail for this, https://gitlab.com/gitlab-org/gitlab/-/issues/582271;
// the 400 and its text were measured on GitLab.com). Turning it on is
// always allowed.
func (s *Server) setInbound(src *project, enabled bool) error {
	if !enabled && s.st.enforce {
		return fail(msgEnforced)
	}
	src.inboundEnabled = enabled
	return nil
}

// inboundEnabled is what GitLab reports: the project setting, or true
// when the instance enforces allowlists.
func (s *Server) inboundEnabled(p *project) bool { return p.inboundEnabled || s.st.enforce }

// allowlistProjects is Allowlist#projects: the source project itself and
// its inbound project links, by ID. GitLab builds it with
// Project.from_union(target_projects, remove_duplicates: false)
// (app/models/ci/job_token/allowlist.rb), a UNION ALL of the source
// project and the link targets, so a project that added itself (allowed
// from 18.0, see addProjectLink) is listed twice. The REST list pages it
// with Gitlab::Pagination::OffsetPagination, which orders by id; the sort
// is stable so the two rows stay side by side.
func (s *state) allowlistProjects(src *project) []*project {
	out := []*project{src}
	for _, l := range src.projectLinks {
		if t := s.projByID[l.targetID]; t != nil {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b *project) int { return a.id - b.id })
	return out
}

// allowlistGroups is Allowlist#groups, ::Group.id_in(group_links.pluck(
// :target_group_id)) (app/models/ci/job_token/allowlist.rb): a relation
// without an order, which OffsetPagination orders by id (primary key), not
// by when the links were added.
func (s *state) allowlistGroups(src *project) []*group {
	var out []*group
	for _, l := range src.groupLinks {
		if g := s.groupByID[l.targetID]; g != nil {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *group) int { return a.id - b.id })
	return out
}

// updatePolicies is UpdatePoliciesService. Exactly one of tp and tg is
// non-nil, or neither for an unknown target. A project's own entry is
// created on first update (build_scope_for_self_target).
func (s *Server) updatePolicies(u *user, src *project, tp *project, tg *group, defaultPermissions bool, policies []string) (*link, error) {
	if !s.beh.policies {
		return nil, fail(msgUpdateFailed)
	}
	if tp == nil && tg == nil {
		return nil, fail(msgNoTarget)
	}
	if !canAdmin(u, src) || tp != nil && !canRead(u, tp) || tg != nil && !canReadGroup(u, tg) {
		return nil, permFail(msgUpdateNoPerm)
	}
	var l *link
	switch {
	case tg != nil:
		l = findLink(src.groupLinks, tg.id)
	default:
		l = findLink(src.projectLinks, tp.id)
		if l == nil && tp == src {
			l = &link{targetID: src.id, createdAt: s.now(), addedBy: u.username}
			src.projectLinks = append(src.projectLinks, l)
		}
	}
	if l == nil {
		return nil, fail(msgNoLink)
	}
	l.defaultPermissions = defaultPermissions
	l.policies = normPolicies(policies)
	return l, nil
}

// autopopulatedIDs lists the targets of autopopulated links.
func autopopulatedIDs(links []*link) []int {
	var out []int
	for _, l := range links {
		if l.autopopulated {
			out = append(out, l.targetID)
		}
	}
	return out
}
