package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/trust"
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
}

func newDiagnoseCmd(io *IO, runF func(*diagnoseOptions) error) *cobra.Command {
	opts := &diagnoseOptions{io: io}
	cmd := &cobra.Command{
		Use:   "diagnose LOG...",
		Short: "Explain job-token 403s in job logs: which edge is missing, and whether it is intended",
		Long: `Diagnose reads job logs (files, or - for standard input) for job-token failure
signatures: GitLab's allowlist and fine-grained policy denials, git, registry,
package manager and API errors, and the failures people confuse with them
(expired tokens, trigger: permissions, include:project). Each is traced to the
caller → callee edge it is about. With a snapshot (--source) tokenscope resolves
GitLab's short project names and says whether the scan found the edge; with
--trust it says whether the edge is approved, denied or unknown — a denied edge
is a job to change, not an allowlist to widen.

Exit codes: 0 when no job-token failure was found, 3 when one was, 1 on errors.`,
		Example: `  tokenscope diagnose job.log --project apps/web --source examples/acme --trust examples/acme/trust.yaml
  tokenscope diagnose --job 4242 --project apps/web --gitlab https://gitlab.example.com --source snap
  cat job.log | tokenscope diagnose - --project apps/web`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.Logs = args
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
	cmd.Flags().StringVar(&opts.live.URL, "gitlab", "", "GitLab `URL` for --job (default $GITLAB_URL)")
	cmd.Flags().StringVar(&opts.live.CAFile, "ca-file", "", "PEM `file` of extra certificate authorities to trust for GitLab")
	opts.live.Concurrency, opts.live.Timeout = 1, time.Minute
	cmd.Flags().StringVarP(&opts.Project, "project", "p", "", "full `path` of the project whose job wrote the logs (the caller)")
	cmd.Flags().StringVar(&opts.Source, "source", "", "snapshot `directory` of the org, to resolve projects and check discovered edges")
	cmd.Flags().StringVar(&opts.Trust, "trust", "", "reviewed intent (`trust.yaml`), to say whether each edge is approved or denied")
	opts.Format.addFlag(cmd, report.DiagnoseFormats)
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

// diagnoseHints word joblog's verdicts with diagnose's flags.
var diagnoseHints = joblog.Hints{
	Caller:   "--project",
	Snapshot: "--source",
	Apply:    "tokenscope plan --trust ... --format script",
}

func diagnoseRun(opts *diagnoseOptions) error {
	var failures []joblog.Failure
	if opts.Job != 0 {
		c, err := opts.live.newClient(opts.io)
		if err != nil {
			return err
		}
		trace, err := c.JobTrace(opts.ctx, opts.Project, opts.Job)
		if err != nil {
			return err
		}
		fs, err := joblog.Parse(fmt.Sprintf("%s job %d", opts.Project, opts.Job), bytes.NewReader(trace))
		if err != nil {
			return err
		}
		failures = fs
	}
	for _, name := range opts.Logs {
		fs, err := readLog(opts.io, name)
		if err != nil {
			return err
		}
		failures = append(failures, fs...)
	}
	ctx := joblog.Context{Caller: opts.Project, Hints: diagnoseHints}
	if opts.Source != "" {
		src := sourceOptions{Dir: opts.Source, Quiet: opts.Quiet}
		snap, err := src.load(opts.ctx, opts.io)
		if err != nil {
			return err
		}
		defer snap.Close()
		if ctx.Server, err = snap.Inventory.Server(); err != nil {
			return err
		}
		ctx.Index = snap.Index
		if opts.Project != "" && snap.Index.Project(opts.Project) == nil {
			var known []string
			for _, p := range snap.Inventory.Projects {
				known = append(known, p.Path)
			}
			return fmt.Errorf("--project %s is not in the snapshot %s (give its full path)%s", opts.Project, opts.Source, didYouMean(opts.Project, known))
		}
		if opts.Trust != "" {
			if ctx.Trust, err = loadTrust(opts.io, opts.Trust, trust.LoadOptions{Index: snap.Index, Now: opts.io.Now()}, opts.Quiet); err != nil {
				return err
			}
		}
		g, _, err := discovery.Scan(opts.ctx, snap, discovery.Options{})
		if err != nil {
			return err
		}
		ctx.Graph = g
		server := ctx.Server
		ctx.JobEnvs = func(caller string) []shell.MapEnv { return jobEnvs(snap, server, caller) }
	}
	ds := joblog.Explain(failures, ctx)
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Diagnose(w, ds, opts.Format.Value) }); err != nil {
		return err
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

func readLog(io *IO, name string) ([]joblog.Failure, error) {
	if name == "-" {
		return joblog.Parse("stdin", io.In)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read job log: %w", err)
	}
	defer f.Close()
	return joblog.Parse(name, f)
}
