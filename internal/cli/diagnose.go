package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/watch"
)

type diagnoseOptions struct {
	io      *IO
	ctx     context.Context
	output  outputOptions
	Logs    []string
	Project string
	Source  string
	Trust   string
	Format  formatOption
	Job     int64
	Quiet   bool
	live    liveOptions
	// The breakage watch (--group): the failed jobs of the groups'
	// projects since Since, at most MaxJobs, MaxLogBytes of each log.
	Since       string
	MaxJobs     int
	MaxLogBytes int64
	// Limits (--limit): how logs are read (log-line, log-failures) and
	// how --source is read and scanned.
	Limits limits.Values
}

func newDiagnoseCmd(io *IO, runF func(*diagnoseOptions) error) *cobra.Command {
	opts := &diagnoseOptions{io: io}
	cmd := &cobra.Command{
		Use:   "diagnose LOG... | --job ID --project P | --group G --since D",
		Short: "Explain job-token 403s in job logs: which edge is missing, and whether it is intended",
		Long: `Diagnose reads job logs (files, or - for standard input) for job-token failure
signatures: GitLab's allowlist and fine-grained policy denials, git, registry,
package manager and API errors, and the failures people confuse with them
(expired tokens, trigger: permissions, include:project). Each is traced to the
caller → callee edge it is about. With a snapshot (--source) tokenscope resolves
GitLab's short project names and says whether the scan found the edge; with
--trust it says whether the edge is approved, denied or unknown — a denied edge
is a job to change, not an allowlist to widen.

Logs are streamed: a log of any size is read to its end (where a job's
failure is) in constant memory, a line longer than 64 KiB is matched on its
first and last 64 KiB (with a note), and failures found before a read error
are still reported.

Breakage watch (--group G, repeatable, with --gitlab URL and --since D): the
failed jobs of the groups' projects (subgroups included) created in the last
D (7d, 36h, ...), listed through the jobs API newest first
(GET /projects/:id/jobs?scope[]=failed, paginated, stopping at D), at most
--max-jobs of them across all projects; the log of each is streamed through
the same signatures (at most --max-log-bytes of it; GitLab serves a log
whole, so reading to its end means reading through it). The report groups the
job-token failures per callee: caller, job (id, name, web URL), time, the
missing edge or policy, and the action: apply (approved in trust.yaml, not
applied yet), do-not-widen (not approved, or denied), review (no trust.yaml,
or already on the allowlist), not-allowlist or not-job-token (the verdict
says what it is instead). --source
resolves projects with a snapshot and says whether the scan found the edge;
--trust works without it too. Formats: table, json.

Exit codes: 0 when no job-token failure was found, 3 when one was, 1 on errors.`,
		Example: `  tokenscope diagnose job.log --project apps/web --source examples/acme --trust examples/acme/trust.yaml
  tokenscope diagnose --job 4242 --project apps/web --gitlab https://gitlab.example.com --source snap
  cat job.log | tokenscope diagnose - --project apps/web
  tokenscope diagnose --group apps --group libs --gitlab https://gitlab.example.com --since 7d --trust trust.yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.Logs = args
			if len(opts.live.Groups) > 0 {
				return diagnoseGroupCheck(opts, runF)
			}
			for _, f := range []string{"since", "max-jobs", "max-log-bytes"} {
				if cmd.Flags().Changed(f) {
					return usageErrorf("--%s needs --group: the groups whose failed jobs to read", f)
				}
			}
			switch {
			case opts.Job == 0 && len(args) == 0:
				return usageErrorf("give job logs (files, or - for standard input), or --job ID with --project and --gitlab")
			case opts.Job != 0 && len(args) > 0:
				return usageErrorf("give either job logs or --job, not both")
			case opts.Job != 0 && opts.Project == "":
				return usageErrorf("--job needs --project: the project whose job it is")
			case opts.Job != 0 && opts.live.url(opts.io) == "":
				return usageErrorf("--job needs the GitLab URL: --gitlab URL or GITLAB_URL (token from GITLAB_TOKEN)")
			}
			if err := opts.Format.check(); err != nil {
				return err
			}
			if opts.Trust != "" && opts.Source == "" {
				return usageErrorf("--trust needs --source: the trust file names projects of a snapshot")
			}
			if runF != nil {
				return runF(opts)
			}
			return diagnoseRun(opts)
		},
	}
	opts.output.addFlags(cmd)
	cmd.Flags().Int64Var(&opts.Job, "job", 0, "read the log of job `ID` of --project from GitLab (--gitlab, GITLAB_URL; token from GITLAB_TOKEN)")
	cmd.Flags().StringVar(&opts.live.URL, "gitlab", "", "GitLab `URL` for --job and --group (default $GITLAB_URL)")
	cmd.Flags().StringVar(&opts.live.CAFile, "ca-file", "", "PEM `file` of extra certificate authorities to trust for GitLab")
	opts.live.Timeout = time.Minute
	cmd.Flags().StringArrayVar(&opts.live.Groups, "group", nil, "breakage watch: read the failed jobs of the projects of `group` (subgroups included; repeatable)")
	cmd.Flags().StringVar(&opts.Since, "since", "7d", "breakage watch: failed jobs created in the last `duration` (7d, 36h, 90m)")
	cmd.Flags().IntVar(&opts.MaxJobs, "max-jobs", 500, "breakage watch: read the logs of at most `N` failed jobs, the newest first")
	cmd.Flags().Int64Var(&opts.MaxLogBytes, "max-log-bytes", 100<<20, "breakage watch: read at most `N` bytes of one log (the default is GitLab's default log limit, 100 MiB)")
	cmd.Flags().IntVar(&opts.live.Concurrency, "concurrency", 8, "breakage watch: GitLab requests in flight at most")
	cmd.Flags().StringVarP(&opts.Project, "project", "p", "", "full `path` of the project whose job wrote the logs (the caller)")
	cmd.Flags().StringVar(&opts.Source, "source", "", "snapshot `directory` of the org, to resolve projects and check discovered edges")
	cmd.Flags().StringVar(&opts.Trust, "trust", "", "reviewed intent (`trust.yaml`), to say whether each edge is approved or denied")
	opts.Format.addFlag(cmd, report.DiagnoseFormats)
	addQuietFlag(cmd, &opts.Quiet)
	addLimitFlag(cmd, &opts.Limits)
	return cmd
}

// readOptions bound the read of one log.
func (opts *diagnoseOptions) readOptions() joblog.ReadOptions {
	return joblog.ReadOptions{MaxMatchLine: opts.Limits.Int(limits.LogLine), MaxFailures: opts.Limits.Int(limits.LogFailures)}
}

// diagnoseHints word joblog's verdicts with diagnose's flags.
var diagnoseHints = joblog.Hints{
	Caller:   "--project",
	Snapshot: "--source",
	Apply:    "tokenscope plan --trust ... --format script",
}

func diagnoseRun(opts *diagnoseOptions) error {
	var failures []joblog.Failure
	var readErr error
	if opts.Job != 0 {
		c, err := opts.live.newClient(opts.io)
		if err != nil {
			return err
		}
		// Streamed: a log of any size is read to its end in constant
		// memory (issue 10: the first 100 MB were kept, and buffered).
		var res joblog.Result
		err = c.StreamTrace(opts.ctx, opts.Project, opts.Job, func(r io.Reader) error {
			var err error
			res, err = joblog.Read(fmt.Sprintf("%s job %d", opts.Project, opts.Job), r, opts.readOptions())
			return err
		})
		failures = res.Failures
		printNotes(opts.io, res.Notes, opts.Quiet)
		if err != nil {
			readErr = err
		}
	}
	for _, name := range opts.Logs {
		res, err := readLog(opts.io, name, opts.readOptions())
		failures = append(failures, res.Failures...)
		printNotes(opts.io, res.Notes, opts.Quiet)
		if err != nil {
			// What was found before the problem is still reported;
			// the command then fails with the error.
			readErr = errors.Join(readErr, err)
		}
	}
	if readErr != nil && len(failures) == 0 {
		return readErr
	}
	ctx := joblog.Context{Caller: opts.Project, Hints: diagnoseHints}
	if opts.Source != "" {
		snap, err := opts.withSource(&ctx)
		if err != nil {
			return err
		}
		defer snap.Close()
		if opts.Project != "" && snap.Index.Project(opts.Project) == nil {
			var known []string
			for _, p := range snap.Inventory.Projects {
				known = append(known, p.Path)
			}
			return fmt.Errorf("--project %s is not in the snapshot %s (give its full path)%s", opts.Project, opts.Source, didYouMean(opts.Project, known))
		}
	}
	ds := joblog.Explain(failures, ctx)
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Diagnose(w, ds, opts.Format.Value) }); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	for _, d := range ds {
		if d.JobToken() {
			return ErrFindings
		}
	}
	return nil
}

// jobEnvs are the environments caller's jobs start with, built as the scan
// builds them (discovery.JobEnv over the effective CI configuration), one
// per job and variant.
func jobEnvs(snap *inventory.Snapshot, server inventory.Server, caller string) []shell.MapEnv {
	p := snap.Index.Project(caller)
	if p == nil {
		return nil
	}
	predefined := inventory.Predefined(server, p)
	cfgPath := p.CIConfigPath
	if cfgPath == "" {
		cfgPath = ".gitlab-ci.yml"
	}
	cfg := ciconfig.Load(p.Path, cfgPath, ciconfig.Options{Files: snap, Vars: predefined})
	var envs []shell.MapEnv
	for i := range cfg.Jobs {
		job := &cfg.Jobs[i]
		vs := job.Variants
		if job.Matrix == 0 {
			vs = append([]ciconfig.Variant{{}}, vs...)
		}
		for _, v := range vs {
			envs = append(envs, discovery.JobEnv(predefined, job.Variables, v.Variables))
		}
	}
	return envs
}

func readLog(io *IO, name string, ro joblog.ReadOptions) (joblog.Result, error) {
	if name == "-" {
		return joblog.Read("stdin", io.In, ro)
	}
	f, err := os.Open(name)
	if err != nil {
		return joblog.Result{}, fmt.Errorf("read job log: %w", err)
	}
	defer f.Close()
	return joblog.Read(name, f, ro)
}

// printNotes prints where a log was read in part (warnings: -q drops them).
func printNotes(io *IO, notes []string, quiet bool) {
	if quiet {
		return
	}
	for _, n := range notes {
		fmt.Fprintln(io.Err, "warning: "+n)
	}
}

// diagnoseGroupCheck checks the flags of the breakage watch.
func diagnoseGroupCheck(opts *diagnoseOptions, runF func(*diagnoseOptions) error) error {
	switch {
	case len(opts.Logs) > 0 || opts.Job != 0:
		return usageErrorf("give job logs, --job, or --group (the breakage watch), not several")
	case opts.live.url(opts.io) == "":
		return usageErrorf("--group needs the GitLab URL: --gitlab URL or GITLAB_URL (token from GITLAB_TOKEN)")
	case opts.MaxJobs < 1:
		return usageErrorf("--max-jobs %d: want at least 1", opts.MaxJobs)
	case opts.MaxLogBytes < 1:
		return usageErrorf("--max-log-bytes %d: want at least 1", opts.MaxLogBytes)
	case opts.live.Concurrency < 1:
		return usageErrorf("--concurrency %d: want at least 1", opts.live.Concurrency)
	}
	if _, err := parseSince(opts.Since); err != nil {
		return err
	}
	if opts.Format.Value == report.FormatMarkdown {
		return usageErrorf("unknown --format %q with --group (valid: %s)", opts.Format.Value, strings.Join(report.WatchFormats, ", "))
	}
	if err := opts.Format.check(); err != nil {
		return err
	}
	if runF != nil {
		return runF(opts)
	}
	return diagnoseGroupRun(opts)
}

// parseSince reads --since: a Go duration (36h, 90m) or a number of days
// (7d).
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, usageErrorf("--since %q: want a positive duration such as 7d, 36h or 90m", s)
	}
	return d, nil
}

// diagnoseGroupRun is the breakage watch: list the groups' projects, then
// their failed jobs, read the logs, explain the failures (package watch).
func diagnoseGroupRun(opts *diagnoseOptions) error {
	since, _ := parseSince(opts.Since)
	c, err := opts.live.newClient(opts.io)
	if err != nil {
		return err
	}
	listing, err := c.ListGroups(opts.ctx, opts.live.Groups, false)
	if err != nil {
		return err
	}
	if len(listing.Projects) == 0 {
		return fmt.Errorf("%s: no project found in --group %s", opts.live.url(opts.io), strings.Join(opts.live.Groups, ", "))
	}
	var projects []string
	for _, p := range listing.Projects {
		projects = append(projects, p.Path)
	}
	slices.Sort(projects)
	ctx := joblog.Context{Hints: diagnoseHints}
	if opts.Source != "" {
		snap, err := opts.withSource(&ctx)
		if err != nil {
			return err
		}
		defer snap.Close()
	} else {
		// The projects the groups hold resolve GitLab's short names; the
		// trust file may name projects of other groups, so it is not
		// checked against them.
		inv := &inventory.Inventory{Version: inventory.Version, ServerURL: listing.ServerURL, Registry: listing.Registry, Groups: listing.Groups, Projects: listing.Projects}
		ctx.Index = inventory.NewIndex(inv)
		if ctx.Server, err = inv.Server(); err != nil {
			return err
		}
		if opts.Trust != "" {
			if ctx.Trust, err = loadTrust(opts.io, opts.Trust, trust.LoadOptions{Now: opts.io.Now()}, opts.Quiet); err != nil {
				return err
			}
		}
	}
	rep, err := watch.Run(opts.ctx, c, watch.Options{
		Projects: projects, Since: opts.io.Now().Add(-since), MaxJobs: opts.MaxJobs, MaxLogBytes: opts.MaxLogBytes, Read: opts.readOptions(),
		Concurrency: opts.live.Concurrency, Context: ctx,
	})
	if err != nil {
		return err
	}
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Watch(w, rep, opts.Format.Value) }); err != nil {
		return err
	}
	if rep.JobToken() {
		return ErrFindings
	}
	return nil
}

// withSource loads --source and fills what ctx learns from it: the
// server, the names, the trust file checked against them, the scan and
// the callers' job variables. The caller closes the snapshot.
func (opts *diagnoseOptions) withSource(ctx *joblog.Context) (*inventory.Snapshot, error) {
	src := sourceOptions{Dir: opts.Source, Quiet: opts.Quiet, Limits: opts.Limits}
	snap, err := src.load(opts.ctx, opts.io)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*inventory.Snapshot, error) {
		snap.Close()
		return nil, err
	}
	if ctx.Server, err = snap.Inventory.Server(); err != nil {
		return fail(err)
	}
	ctx.Index = snap.Index
	if opts.Trust != "" {
		if ctx.Trust, err = loadTrust(opts.io, opts.Trust, trust.LoadOptions{Index: snap.Index, Now: opts.io.Now()}, opts.Quiet); err != nil {
			return fail(err)
		}
	}
	g, _, err := discovery.Scan(opts.ctx, snap, discovery.Options{Limits: opts.Limits})
	if err != nil {
		return fail(err)
	}
	ctx.Graph = g
	server := ctx.Server
	ctx.JobEnvs = func(caller string) []shell.MapEnv { return jobEnvs(snap, server, caller) }
	return snap, nil
}
