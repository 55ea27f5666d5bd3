package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/plan"
)

// Live is the GitLab of a real run: the client's writes, and ReadStates
// through the same reads as `plan --gitlab` (gitlab.ReadJobTokens, and
// the instance setting), so that both see a project the same way.
type Live struct {
	*gitlab.Client
}

// ReadStates implements GitLab.
func (l Live) ReadStates(ctx context.Context, refs []gitlab.Ref) (map[string]State, error) {
	v, err := l.Version(ctx)
	if err != nil {
		return nil, err
	}
	inst, err := l.InstanceEnforcesAllowlist(ctx, v)
	if err != nil {
		return nil, err
	}
	projects := make([]*inventory.Project, len(refs))
	for i, r := range refs {
		projects[i] = &inventory.Project{Path: r.Path, ID: r.ID}
	}
	jt, err := l.ReadJobTokens(ctx, projects, v, false, nil)
	if err != nil {
		return nil, err
	}
	scopes := map[string]*inventory.JobTokenScope{}
	for p, s := range jt.Scopes {
		scopes[strings.ToLower(p)] = s
	}
	out := map[string]State{}
	for _, r := range refs {
		s := scopes[strings.ToLower(r.Path)]
		if s == nil {
			why := "no answer"
			for _, pr := range jt.Problems {
				if strings.EqualFold(pr.Project, r.Path) {
					why = pr.Summary + ": " + pr.Detail
				}
			}
			return nil, fmt.Errorf("%s: %s", r.Path, why)
		}
		out[strings.ToLower(r.Path)] = stateOf(s, inst)
	}
	return out, nil
}

// stateOf is the State of a scope read from GitLab; enforced as the plan
// counts it (the project setting or the instance setting).
func stateOf(s *inventory.JobTokenScope, instance *bool) State {
	st := State{Enforced: s.InboundEnabled || (instance != nil && *instance), Entries: map[Key][]string{}}
	for _, e := range s.Allowlist.Projects {
		st.Entries[key(plan.ProjectEntry, e.Path)] = e.Policies
	}
	for _, e := range s.Allowlist.Groups {
		st.Entries[key(plan.GroupEntry, e.Path)] = e.Policies
	}
	return st
}
