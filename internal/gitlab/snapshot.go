package gitlab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// SnapshotOptions say what to read.
type SnapshotOptions struct {
	// Groups are the full paths of the groups to read, subgroups included.
	Groups []string
	// IncludeArchived also reads archived projects (skipped by default:
	// their pipelines do not run).
	IncludeArchived bool
	// REST reads one project and one file per request over REST, as GitLab
	// before 16.6 requires (no projects(fullPaths:)). It is chosen
	// automatically from the version; set it to force it.
	REST bool
	// MaxRounds bounds the fetch-and-discover rounds (default 8).
	MaxRounds int
	// Detectors run during the rounds (default detect.All()).
	Detectors []detect.Detector
	// Progress, when set, is told what is being read. Calls are serialised.
	Progress func(Progress)
}

// Progress reports one stage of a snapshot.
type Progress struct {
	Stage       string // "projects", "job tokens", "files"
	Done, Total int
}

// Result is a snapshot read from GitLab: the inventory, the repository
// files discovery needs, and per-project problems (permission gaps,
// unreadable files) as diagnostics.
type Result struct {
	Inventory *inventory.Inventory
	Files     map[string]map[string][]byte // project full path -> file path -> content
	Diags     diag.List
	Requests  int64 // HTTP requests sent, retries included
}

// Snapshot reads the groups' projects, their job token settings,
// allowlists and authentication logs, and the files discovery reads. It
// makes only read requests.
func (c *Client) Snapshot(ctx context.Context, o SnapshotOptions) (*Result, error) {
	if len(o.Groups) == 0 {
		return nil, fmt.Errorf("no group to read: pass --group")
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 8
	}
	report := progressFunc(o.Progress)
	version, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	report("projects", 0, 0)
	l, err := c.listGroups(ctx, o.Groups, o.IncludeArchived)
	if err != nil {
		return nil, err
	}
	server := l.serverURL
	if server == "" {
		server = c.base.String()
	}
	inv := &inventory.Inventory{
		Version:       inventory.Version,
		ServerURL:     server,
		Registry:      l.registry,
		GitLabVersion: version.String(),
		Groups:        l.groups,
		Projects:      l.projects,
	}
	if inv.InstanceEnforcesAllowlist, err = c.instanceEnforcesAllowlist(ctx, version); err != nil {
		return nil, err
	}
	res := &Result{Inventory: inv}
	useREST := o.REST || !version.AtLeast(versionFullPaths.Major, versionFullPaths.Minor)

	jt, err := c.readJobTokens(ctx, l.projects, version, o.REST, report)
	if err != nil {
		return nil, err
	}
	for _, p := range l.projects {
		p.JobTokenScope = jt.scopes[p.Path]
		p.AuthLog = jt.logs[p.Path]
	}
	res.Diags = append(res.Diags, jt.diags...)

	files, diags, err := c.readFiles(ctx, inv, useREST, o, report)
	if err != nil {
		return nil, err
	}
	res.Files = files
	res.Diags = append(res.Diags, diags...).Sort()
	res.Requests = c.Requests()
	return res, nil
}

func progressFunc(f func(Progress)) func(stage string, done, total int) {
	if f == nil {
		return func(string, int, int) {}
	}
	var mu sync.Mutex
	return func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		f(Progress{Stage: stage, Done: done, Total: total})
	}
}

// counter turns per-batch increments into progress reports.
func counter(report func(string, int, int), stage string, total int) func(int) {
	var done atomic.Int64
	report(stage, 0, total)
	return func(n int) { report(stage, int(done.Add(int64(n))), total) }
}

// readJobTokens picks how to read job token data by version: GraphQL
// batches where GitLab's schema has what the inventory needs, REST (one
// project at a time, no policies) before.
func (c *Client) readJobTokens(ctx context.Context, projects []*inventory.Project, v Version, rest bool, report func(string, int, int)) (*jobTokens, error) {
	tick := counter(report, "job tokens", len(projects))
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
	jt.diags = append(jt.diags, logs.diags...)
	return jt, nil
}

// readFiles fetches each project's tree and CI configuration, then runs
// discovery over what it has, fetches what discovery tried to read (plus
// the candidates the trees list), and repeats until discovery reads
// nothing new.
func (c *Client) readFiles(ctx context.Context, inv *inventory.Inventory, rest bool, o SnapshotOptions, report func(string, int, int)) (map[string]map[string][]byte, diag.List, error) {
	var active []*inventory.Project
	byPath := map[string]*inventory.Project{}
	for _, p := range inv.Projects {
		byPath[p.Path] = p
		if !p.Archived {
			active = append(active, p)
		}
	}
	m := newMemFiles(active)
	f := &fileFetcher{c: c, m: m, rest: rest, byPath: byPath}
	if err := f.treesAndConfig(ctx, active, counter(report, "files", len(active))); err != nil {
		return nil, nil, err
	}
	for _, p := range active {
		r := m.repo(p.Path)
		var cands []string
		for _, name := range r.list {
			if candidate(name) {
				cands = append(cands, name)
			}
		}
		if len(cands) > maxCandidates {
			f.warnf(p.Path, "", "%d package-manager and container files; only the first %d were read", len(cands), maxCandidates)
			cands = cands[:maxCandidates]
		}
		for _, name := range cands {
			m.want(p.Path, name)
		}
	}
	discoverInv := *inv
	discoverInv.Projects = active
	for round := 1; ; round++ {
		if _, err := discovery.DiscoverFiles(ctx, &discoverInv, m, discovery.Options{Detectors: o.Detectors}); err != nil {
			return nil, nil, err
		}
		want := m.takeWanted()
		if len(want) == 0 {
			break
		}
		if round > o.MaxRounds {
			for p, names := range want {
				f.warnf(p, "", "discovery still wanted %s after %d rounds of fetching; not read", strings.Join(names, ", "), o.MaxRounds)
			}
			break
		}
		n := 0
		for _, names := range want {
			n += len(names)
		}
		if err := f.files(ctx, want, counter(report, "files", n)); err != nil {
			return nil, nil, err
		}
	}
	outside := m.outsideReads()
	for _, p := range slices.Sorted(func(y func(string) bool) {
		for k := range outside {
			if !y(k) {
				return
			}
		}
	}) {
		f.diags = append(f.diags, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: p, File: strings.Join(outside[p], ", ")},
			Summary: "read by a project of the snapshot (include:project or a cross-project reference), but not in the snapshot's groups",
			Detail:  "add its group with --group to read it"})
	}
	return m.fetched(), f.diags, nil
}
