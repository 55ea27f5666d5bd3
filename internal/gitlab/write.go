package gitlab

import (
	"context"
	"fmt"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// The writes of `tokenscope apply`: one method per change of a project's
// inbound job token allowlist. REST where GitLab takes numeric IDs (the
// POST and DELETE routes of https://docs.gitlab.com/api/project_job_token_scopes/
// declare integer IDs), the path-based GraphQL mutations otherwise, and
// GraphQL for fine-grained policies, which have no REST route. Every
// failure is an *APIError whose Msg holds GitLab's (redacted) words, so
// that the caller can tell "already done" responses from real failures.

// Query names of the mutations (files in queries/).
const (
	qAddEntry       = "add_allowlist_entry"
	qRemoveProject  = "remove_allowlist_project"
	qRemoveGroup    = "remove_allowlist_group"
	qUpdatePolicies = "update_allowlist_policies"
)

// Ref names a project or a group: its full path, and its numeric ID when
// known (0 otherwise). A write uses REST only when every ID it needs is
// known.
type Ref struct {
	ID   int
	Path string
}

// AddAllowlistEntry adds target (a group when group is set) to the inbound
// allowlist of project, with default permissions; policies are set
// separately (UpdateAllowlistPolicies), as the plan's calls do.
func (c *Client) AddAllowlistEntry(ctx context.Context, project, target Ref, group bool) error {
	what := fmt.Sprintf("add %s to the job token allowlist of %s", target.Path, project.Path)
	if project.ID == 0 || target.ID == 0 {
		return c.mutate(ctx, qAddEntry, what, map[string]any{"projectPath": project.Path, "targetPath": target.Path})
	}
	return c.rest(ctx, what, func() error {
		var err error
		tid := int64(target.ID)
		if group {
			_, _, err = c.gl.JobTokenScope.AddGroupToJobTokenAllowlist(project.ID, &gl.AddGroupToJobTokenAllowlistOptions{TargetGroupID: &tid}, gl.WithContext(ctx))
		} else {
			_, _, err = c.gl.JobTokenScope.AddProjectToJobScopeAllowList(project.ID, &gl.JobTokenInboundAllowOptions{TargetProjectID: &tid}, gl.WithContext(ctx))
		}
		return err
	})
}

// RemoveAllowlistEntry removes target from the inbound allowlist of
// project.
func (c *Client) RemoveAllowlistEntry(ctx context.Context, project, target Ref, group bool) error {
	what := fmt.Sprintf("remove %s from the job token allowlist of %s", target.Path, project.Path)
	switch {
	case (project.ID == 0 || target.ID == 0) && group:
		return c.mutate(ctx, qRemoveGroup, what, map[string]any{"projectPath": project.Path, "targetGroupPath": target.Path})
	case project.ID == 0 || target.ID == 0:
		// The mutation's direction defaults to OUTBOUND, the legacy scope:
		// an inbound entry is removed only with INBOUND
		// (https://docs.gitlab.com/api/graphql/reference/#mutationcijobtokenscoperemoveproject).
		return c.mutate(ctx, qRemoveProject, what, map[string]any{"projectPath": project.Path, "targetProjectPath": target.Path, "direction": "INBOUND"})
	}
	return c.rest(ctx, what, func() error {
		var err error
		if group {
			_, err = c.gl.JobTokenScope.RemoveGroupFromJobTokenAllowlist(project.ID, int64(target.ID), gl.WithContext(ctx))
		} else {
			_, err = c.gl.JobTokenScope.RemoveProjectFromJobScopeAllowList(project.ID, int64(target.ID), gl.WithContext(ctx))
		}
		return err
	})
}

// UpdateAllowlistPolicies sets the fine-grained policies (lower-case names,
// as in the inventory) of target's entry on project's allowlist; nil
// restores default permissions.
func (c *Client) UpdateAllowlistPolicies(ctx context.Context, project, target Ref, policies []string) error {
	enum := make([]any, len(policies))
	for i, p := range policies {
		// GraphQL enum values are upper case (READ_JOBS); as variables
		// they travel as strings.
		enum[i] = strings.ToUpper(p)
	}
	what := fmt.Sprintf("set the job token policies of %s on %s", target.Path, project.Path)
	return c.mutate(ctx, qUpdatePolicies, what, map[string]any{
		"projectPath": project.Path, "targetPath": target.Path, "defaultPermissions": policies == nil, "jobTokenPolicies": enum,
	})
}

// EnforceAllowlist turns on "Limit access to this project"
// (PATCH /projects/:id/job_token_scope with enabled=true,
// https://docs.gitlab.com/api/project_job_token_scopes/).
// The route accepts the numeric ID or the URL-encoded path.
func (c *Client) EnforceAllowlist(ctx context.Context, project Ref) error {
	var pid any = project.Path
	if project.ID != 0 {
		pid = project.ID
	}
	return c.rest(ctx, "limit access to "+project.Path, func() error {
		_, err := c.gl.JobTokenScope.PatchProjectJobTokenAccessSettings(pid, &gl.PatchProjectJobTokenAccessSettingsOptions{Enabled: true}, gl.WithContext(ctx))
		return err
	})
}

// DisableAllowlist turns "Limit access to this project" off again (the
// same PATCH with enabled=false), which a rollback of an enforce needs.
// (https://docs.gitlab.com/api/project_job_token_scopes/). GitLab 18.0
// and later refuse it with 400 while the instance setting "Enforce job
// token allowlist" is on
// (https://docs.gitlab.com/administration/settings/continuous_integration/);
// the APIError carries GitLab's words.
func (c *Client) DisableAllowlist(ctx context.Context, project Ref) error {
	var pid any = project.Path
	if project.ID != 0 {
		pid = project.ID
	}
	return c.rest(ctx, "turn off limit access to "+project.Path, func() error {
		_, err := c.gl.JobTokenScope.PatchProjectJobTokenAccessSettings(pid, &gl.PatchProjectJobTokenAccessSettingsOptions{Enabled: false}, gl.WithContext(ctx))
		return err
	})
}

// rest runs one REST write within the concurrency limit.
func (c *Client) rest(ctx context.Context, what string, do func() error) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if err := do(); err != nil {
		return c.apiError(what, err)
	}
	return nil
}

// mutate sends the mutation name with input. GitLab reports a service
// failure (an entry already there, a missing target) in the payload's
// errors with HTTP 200, and a missing project or permission as a
// top-level error; both fail the write.
func (c *Client) mutate(ctx context.Context, name, what string, input map[string]any) error {
	q, err := getQuery(name)
	if err != nil {
		return err
	}
	var data map[string]*struct {
		Errors []string `json:"errors"`
	}
	errs, err := c.graphql(ctx, q, map[string]any{"input": input}, &data)
	if err != nil {
		return err
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, c.redact(e.Message))
	}
	for _, p := range data {
		if p != nil {
			for _, m := range p.Errors {
				msgs = append(msgs, c.redact(m))
			}
		}
	}
	if len(msgs) > 0 {
		return &APIError{What: what, Msg: strings.Join(msgs, "; ")}
	}
	return nil
}
