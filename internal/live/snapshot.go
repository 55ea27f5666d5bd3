package live

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// ErrNoGroup is returned by Snapshot without a group to read; the caller
// says how to name one.
var ErrNoGroup = errors.New("no group to read")

// Options say what to read.
type Options struct {
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
	// Limits bound the files fetched (file-size) and the discovery rounds
	// that choose them, as the scan of the snapshot will be bounded.
	Limits limits.Values
	// AddGroupHint is the detail of the warning about files read in
	// projects outside the groups: how to add their group, in the words of
	// the caller's interface.
	AddGroupHint string
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
func Snapshot(ctx context.Context, c *gitlab.Client, o Options) (*Result, error) {
	if len(o.Groups) == 0 {
		return nil, ErrNoGroup
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 8
	}
	if o.AddGroupHint == "" {
		o.AddGroupHint = "add its group to read it"
	}
	report := progressFunc(o.Progress)
	version, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	report("projects", 0, 0)
	l, err := c.ListGroups(ctx, o.Groups, o.IncludeArchived)
	if err != nil {
		return nil, err
	}
	server := l.ServerURL
	if server == "" {
		server = c.URL()
	}
	inv := &inventory.Inventory{
		Version:       inventory.Version,
		ServerURL:     server,
		Registry:      l.Registry,
		GitLabVersion: version.String(),
		Groups:        l.Groups,
		Projects:      l.Projects,
	}
	if inv.InstanceEnforcesAllowlist, err = c.InstanceEnforcesAllowlist(ctx, version); err != nil {
		return nil, err
	}
	res := &Result{Inventory: inv}
	res.Diags = append(res.Diags, warnings(l.Problems)...)

	jt, err := c.ReadJobTokens(ctx, l.Projects, version, o.REST, counter(report, "job tokens", len(l.Projects)))
	if err != nil {
		return nil, err
	}
	for _, p := range l.Projects {
		p.JobTokenScope = jt.Scopes[p.Path]
		// Asked for and not read (a permission gap, reported below): the
		// state is unknown, which a plan must not mistake for empty.
		p.JobTokenScopeUnknown = p.JobTokenScope == nil
		p.AuthLog = jt.Logs[p.Path]
	}
	res.Diags = append(res.Diags, warnings(jt.Problems)...)

	files, diags, err := readFiles(ctx, c, inv, version, o, report)
	if err != nil {
		return nil, err
	}
	res.Files = files
	res.Diags = append(res.Diags, diags...).Sort()
	res.Requests = c.Requests()
	return res, nil
}

// warnings turns what the client could not read into diagnostics.
func warnings(ps []gitlab.Problem) diag.List {
	out := make(diag.List, 0, len(ps))
	for _, p := range ps {
		out = append(out, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: p.Project, File: p.File}, Summary: p.Summary, Detail: p.Detail})
	}
	return out
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

// readFiles fetches each project's tree and CI configuration, then runs
// discovery over what it has, fetches what discovery tried to read (plus
// the candidates the trees list), and repeats until discovery reads
// nothing new.
func readFiles(ctx context.Context, c *gitlab.Client, inv *inventory.Inventory, version gitlab.Version, o Options, report func(string, int, int)) (map[string]map[string][]byte, diag.List, error) {
	var active []*inventory.Project
	for _, p := range inv.Projects {
		if !p.Archived {
			active = append(active, p)
		}
	}
	m := newMemFiles(active)
	f := c.NewFileFetcher(m, version, o.REST, inv.Projects, o.Limits.Get(limits.FileSize))
	if err := f.TreesAndConfig(ctx, active, counter(report, "files", len(active))); err != nil {
		return nil, nil, err
	}
	var diags diag.List
	for _, p := range active {
		r := m.repo(p.Path)
		var cands []string
		for _, name := range r.list {
			if candidate(name) {
				cands = append(cands, name)
			}
		}
		if len(cands) > maxCandidates {
			diags.Warnf(p.Path, "", 0, "%d package-manager and container files; only the first %d were read", len(cands), maxCandidates)
			cands = cands[:maxCandidates]
		}
		for _, name := range cands {
			m.Want(p.Path, name)
		}
	}
	discoverInv := *inv
	discoverInv.Projects = active
	for round := 1; ; round++ {
		if _, err := discovery.DiscoverFiles(ctx, &discoverInv, m, discovery.Options{Detectors: o.Detectors, Limits: o.Limits}); err != nil {
			return nil, nil, err
		}
		want := m.takeWanted()
		if len(want) == 0 {
			break
		}
		if round > o.MaxRounds {
			for p, names := range want {
				diags.Warnf(p, "", 0, "discovery still wanted %s after %d rounds of fetching; not read", strings.Join(names, ", "), o.MaxRounds)
			}
			break
		}
		n := 0
		for _, names := range want {
			n += len(names)
		}
		if err := f.Files(ctx, want, counter(report, "files", n)); err != nil {
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
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: p, File: strings.Join(outside[p], ", ")},
			Summary: "read by a project of the snapshot (include:project or a cross-project reference), but not in the snapshot's groups",
			Detail:  o.AddGroupHint})
	}
	return m.fetched(), append(warnings(f.Problems()), diags...), nil
}
