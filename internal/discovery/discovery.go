// Package discovery runs the scan: for every project of a snapshot it loads
// the CI configuration, builds each job's environment and commands, runs the
// detectors and collects uses, notes and diagnostics. Projects are scanned
// concurrently; the result does not depend on scheduling.
package discovery

import (
	"context"
	"runtime"
	"sync"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Options tune Scan.
type Options struct {
	// Workers bounds the projects scanned at once (default GOMAXPROCS).
	Workers int
	// Detectors to run (default detect.All()).
	Detectors []detect.Detector
	// Progress, when set, is called after each project with the number
	// done and the total. Calls are serialised.
	Progress func(done, total int)
	// Limits raise or lower the bounds of the CI configuration and shell
	// analysis (--limit); the ones not given take their defaults.
	Limits limits.Values
}

// Result is the scan's outcome before graph building.
type Result struct {
	Uses  []use.Use
	Notes []use.Note
	Diags diag.List
}

// Scan discovers the job-token uses of every project in snap that has
// repository files, and builds the graph.
func Scan(ctx context.Context, snap *inventory.Snapshot, opts Options) (*graph.Graph, diag.List, error) {
	res, err := Discover(ctx, snap, opts)
	if err != nil {
		return nil, res.Diags, err
	}
	notes := append(res.Notes, DiagNotes(res.Diags)...)
	// A use of a group-scoped package endpoint becomes a use of the
	// group's projects that publish the package, when the snapshot shows
	// them (detect/publishers.go); otherwise it stays unresolved.
	uses := detect.ResolvePublishers(snap.Index, snap, res.Uses)
	return graph.Build(snap.Index, uses, notes), res.Diags, nil
}

// Discover runs the detectors over every project and returns the raw uses,
// notes and diagnostics, in a deterministic order.
func Discover(ctx context.Context, snap *inventory.Snapshot, opts Options) (Result, error) {
	return DiscoverFiles(ctx, snap.Inventory, snap, opts)
}

// DiscoverFiles is Discover over any inventory.Files: the live client runs
// it over files it fetches on demand, to learn which files discovery reads.
func DiscoverFiles(ctx context.Context, inv *inventory.Inventory, snap inventory.Files, opts Options) (Result, error) {
	server, err := inv.Server()
	if err != nil {
		return Result{}, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Detectors == nil {
		opts.Detectors = detect.All()
	}
	var projects []*inventory.Project
	for _, p := range inv.Projects {
		if snap.HasFiles(p.Path) && !p.Archived {
			projects = append(projects, p)
		}
	}
	results := make([]Result, len(projects))
	cache := ciconfig.NewCache()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = scanProject(snap, server, projects[i], cache, opts.Detectors, opts.Limits)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(projects))
					mu.Unlock()
				}
			}
		}()
	}
	var ctxErr error
feed:
	for i := range projects {
		select {
		case jobs <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(jobs)
	// Cancelled (Ctrl-C, SIGTERM): return at once rather than after the
	// projects being scanned, one of which may be a hostile repository's
	// that takes its whole bound; nothing reads the results then.
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	var out Result
	for _, r := range results {
		out.Uses = append(out.Uses, r.Uses...)
		out.Notes = append(out.Notes, r.Notes...)
		out.Diags = append(out.Diags, r.Diags...)
	}
	out.Diags = out.Diags.Sort()
	return out, ctxErr
}

// sharePrefixes lets tests compare a scan without the shared analysis of
// common leading script items to one with it.
var sharePrefixes = true

// scanProject runs every detector over one project. It recovers from a
// panic in any stage and reports it as a diagnostic: one bad project never
// stops a scan.
func scanProject(snap inventory.Files, server inventory.Server, p *inventory.Project, cache *ciconfig.Cache, detectors []detect.Detector, lim limits.Values) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res.Diags.Errorf(p.Path, "", 0, "internal error while scanning this project: %v (please report it; the rest of the scan is complete)", r)
		}
	}()
	predefined := inventory.Predefined(server, p)
	baseEnv := shell.MapEnv(predefined)
	out := &detect.Output{}
	run := func(in *detect.Input) {
		for _, d := range detectors {
			d.Detect(in, out)
		}
	}
	// Repository files read outside any job (committed .npmrc, ...).
	run(&detect.Input{Caller: p, Server: server, Env: baseEnv, Files: snap})

	cfgPath := p.CIConfigPath
	if cfgPath == "" {
		cfgPath = ".gitlab-ci.yml"
	}
	cfg := ciconfig.Load(p.Path, cfgPath, ciconfig.Options{Files: snap, Vars: predefined, Cache: cache, Limits: ConfigLimits(lim)})
	if cfg.Missing && p.CIConfigPath != "" {
		res.Diags.Errorf(p.Path, cfgPath, 0, "the configured CI/CD configuration file %s is not in the snapshot", cfgPath)
	}
	res.Notes = append(res.Notes, configNotes(cfg.Notes, p.Path)...)
	res.Diags = append(res.Diags, cfg.Diags...)
	js := &jobScan{snap: newMemoFiles(snap), server: server, project: p, predefined: predefined, detectors: detectors, shell: ShellOptions(lim)}
	if sharePrefixes {
		js.shell.Cache = shell.NewProjectCache()
	}
	for i := range cfg.Jobs {
		if cfg.Jobs[i].Never {
			continue // a note says so (configNotes)
		}
		uses, notes, diags := js.scanJob(&cfg.Jobs[i])
		out.Uses = append(out.Uses, uses...)
		out.Notes = append(out.Notes, notes...)
		res.Diags = append(res.Diags, diags...)
	}
	res.Uses = out.Uses
	res.Notes = append(res.Notes, out.Notes...)
	for i := range res.Uses {
		if res.Uses[i].Origin == "" {
			res.Uses[i].Origin = use.CIConfig
		}
		if res.Uses[i].Caller == "" {
			res.Uses[i].Caller = p.Path
		}
	}
	return res
}

// variants returns the variable sets the job runs with: its own followed
// by its variants, or only its matrix combinations for a parallel:matrix
// job (the job never runs without them).
func variants(job *ciconfig.Job) []ciconfig.Variant {
	if job.Matrix > 0 {
		return job.Variants
	}
	return append([]ciconfig.Variant{{}}, job.Variants...)
}

// Commands analyses the job's script sections: hooks:pre_get_sources_script,
// before_script and script (one shell), and after_script (a new shell).
func Commands(files inventory.Files, project string, job *ciconfig.Job, env shell.Env) ([]*shell.Command, diag.List) {
	return commandsWith(files, project, job, env, shell.Options{})
}

// ConfigLimits are the CI configuration bounds of lim.
func ConfigLimits(lim limits.Values) ciconfig.Limits {
	l := ciconfig.DefaultLimits
	l.MaxIncludes = lim.Int(limits.Includes)
	l.MaxNodes = lim.Int(limits.YAMLNodes)
	l.MaxTotalBytes = lim.Get(limits.ConfigBytes)
	l.MaxInterpolatedBytes = lim.Get(limits.InterpolatedBytes)
	l.MaxChildPipelines = lim.Int(limits.ChildPipelines)
	l.MaxMatrixVariants = lim.Int(limits.MatrixVariants)
	return l
}

// ShellOptions are the shell analysis bounds of lim (ReadFile unset).
func ShellOptions(lim limits.Values) shell.Options {
	return shell.Options{
		MaxCommands:   lim.Int(limits.ShellCommands),
		MaxSteps:      lim.Int(limits.ShellSteps),
		MaxScriptSize: lim.Int(limits.ScriptSize),
	}
}

// commandsWith is Commands under the bounds of opts.
func commandsWith(files inventory.Files, project string, job *ciconfig.Job, env shell.Env, opts shell.Options) ([]*shell.Command, diag.List) {
	read := func(name string) ([]byte, error) { return files.ReadFile(project, name) }
	var cmds []*shell.Command
	var diags diag.List
	for _, session := range [][]struct {
		section string
		items   []ciconfig.Script
	}{
		{{"pre_get_sources_script", job.PreGetSources}},
		{{"before_script", job.BeforeScript}, {"script", job.Script}},
		{{"after_script", job.AfterScript}},
	} {
		var srcs []shell.Source
		for _, part := range session {
			for _, s := range part.items {
				srcs = append(srcs, shell.Source{
					Text:     s.Text,
					Pos:      s.Pos,
					LineStep: s.LineStep,
					Section:  part.section,
				})
			}
		}
		if len(srcs) == 0 {
			continue
		}
		o := opts
		o.ReadFile = read
		r := shell.Analyze(srcs, env, o)
		cmds = append(cmds, r.Commands...)
		diags = append(diags, r.Diags...)
	}
	return cmds, diags
}

// configNotes turns the notes of a CI configuration of project caller into
// scan notes, in the order use.SortNotes gives them. What GitLab resolves
// with the pipeline user's permissions is not a job-token edge. A note in
// another project's file (an included template) names that project, with
// the caller.
func configNotes(ns []ciconfig.Note, caller string) []use.Note {
	out := make([]use.Note, 0, len(ns))
	for _, n := range ns {
		var k use.NoteKind
		switch n.Kind {
		case ciconfig.PipelineUser:
			k = use.NotJobToken
		case ciconfig.NotFetched:
			k = use.NotFetched
		case ciconfig.NeverRuns:
			k = use.NeverRuns
		default:
			panic("discovery: unknown ciconfig note kind " + string(n.Kind))
		}
		out = append(out, use.Note{Pos: n.Pos, Caller: use.CallerOf(n.Pos.Project, caller), Job: n.Job, Kind: k, Detail: n.Detail})
	}
	return use.SortNotes(out)
}

// DiagNotes turns diagnostics into notes so that machine output carries
// them next to the edges.
func DiagNotes(ds diag.List) []use.Note {
	out := make([]use.Note, 0, len(ds))
	for _, d := range ds {
		k := use.ConfigWarning
		if d.Severity == diag.Error {
			k = use.ConfigError
		}
		detail := d.Summary
		if d.Detail != "" {
			detail += " (" + d.Detail + ")"
		}
		out = append(out, use.Note{Pos: d.Pos, Kind: k, Detail: detail})
	}
	return out
}
