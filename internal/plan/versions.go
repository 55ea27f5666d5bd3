package plan

import (
	"fmt"

	"github.com/tokenscope/tokenscope/internal/capability"
)

// versionUnsupported says why GitLab with caps cannot make call c through
// its API, "" when it can. The call stays in the plan (for an upgrade, and
// so that apply and the script skip it with the reason instead of failing
// on GitLab's 404); the UI steps are the way on such a version.
//
//   - before 15.9 there is no inbound allowlist at all
//     (https://gitlab.com/gitlab-org/gitlab/-/issues/346298);
//   - the REST routes of https://docs.gitlab.com/api/project_job_token_scopes/
//     arrived in 16.1 (https://gitlab.com/gitlab-org/gitlab/-/issues/351740);
//   - ciJobTokenScopeAddGroupOrProject, the add by path, arrived with group
//     entries in 17.0 (https://gitlab.com/gitlab-org/gitlab/-/merge_requests/143132).
func versionUnsupported(c Call, caps capability.Capabilities) string {
	switch {
	case !caps.Allowlist:
		return fmt.Sprintf("GitLab %s has no inbound job token allowlist (15.9+): upgrade first", caps.Version)
	case c.Mutation == MutationAdd && !caps.AddByPath:
		return fmt.Sprintf("ciJobTokenScopeAddGroupOrProject needs GitLab 17.0 (this is %s): add the entry in the UI, or snapshot the caller so that REST can add it by ID", caps.Version)
	case !c.GraphQL() && !caps.RESTAllowlist:
		return fmt.Sprintf("the REST allowlist API needs GitLab 16.1 (this is %s): use the UI steps", caps.Version)
	}
	return ""
}
