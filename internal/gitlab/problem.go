package gitlab

import (
	"context"
	"sync"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Problem is something GitLab would not let a read do for one project: a
// permission gap, a file too large or stored in Git LFS, a listing cut
// short. The reads go on; the caller decides how to report it.
type Problem struct {
	Project string
	File    string // repository file, if the problem is about one
	Summary string
	Detail  string
}

// problems collects Problems from concurrent requests.
type problems struct {
	mu   sync.Mutex
	list []Problem
}

func (p *problems) add(pr Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, pr)
}

func (p *problems) all() []Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Problem(nil), p.list...)
}

// JobTokens is what was read of the projects' job token settings, by
// project full path.
type JobTokens struct {
	Scopes   map[string]*inventory.JobTokenScope
	Logs     map[string][]inventory.AuthLogEntry
	Problems []Problem
}

// ReadJobTokens reads the projects' job token settings, allowlists and
// authentication logs, picking how by version: GraphQL batches where
// GitLab's schema has what the inventory needs, REST (one project at a
// time, no policies) before, or always when forceREST is set. progress,
// when set, is told of each project read.
func (c *Client) ReadJobTokens(ctx context.Context, projects []*inventory.Project, v Version, forceREST bool, progress func(int)) (*JobTokens, error) {
	jt, err := c.readJobTokens(ctx, projects, v, forceREST, progress)
	if err != nil {
		return nil, err
	}
	out := &JobTokens{Scopes: jt.scopes, Logs: jt.logs, Problems: jt.problems.all()}
	checkJobTokens(out)
	return out, nil
}

func (c *Client) readJobTokens(ctx context.Context, projects []*inventory.Project, v Version, rest bool, tick func(int)) (*jobTokens, error) {
	switch {
	case !rest && v.AtLeast(versionAutopopulated.Major, versionAutopopulated.Minor):
		return c.jobTokensGraphQL(ctx, projects, qJobTokenSettings, true, tick)
	case !rest && v.AtLeast(versionAllowlistGraphQL.Major, versionAllowlistGraphQL.Minor):
		return c.jobTokensGraphQL(ctx, projects, qJobTokenSettings179, true, tick)
	}
	jt, err := c.jobTokensREST(ctx, projects, tick)
	if err != nil || rest || !v.AtLeast(versionAuthLog.Major, versionAuthLog.Minor) || !v.AtLeast(versionFullPaths.Major, versionFullPaths.Minor) {
		return jt, err
	}
	logs, err := c.jobTokensGraphQL(ctx, projects, qAuthLogs, false, nil)
	if err != nil {
		return nil, err
	}
	jt.logs = logs.logs
	for _, p := range logs.problems.all() {
		jt.problems.add(p)
	}
	return jt, nil
}
