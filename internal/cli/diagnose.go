package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/diagnose"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/trust"
)

type diagnoseOptions struct {
	io      *IO
	output  outputOptions
	Logs    []string
	Project string
	Source  string
	Trust   string
	Format  formatOption
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
  curl -s --header "PRIVATE-TOKEN: $GITLAB_TOKEN" "$GITLAB_URL/api/v4/projects/301/jobs/42/trace" | tokenscope diagnose - --project apps/web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Logs = args
			if err := opts.Format.check(); err != nil {
				return err
			}
			if opts.Trust != "" && opts.Source == "" {
				return usageErrorf("--trust needs --source: the trust file names projects of a snapshot")
			}
			if runF != nil {
				return runF(opts)
			}
			return diagnoseRun(cmd, opts)
		},
	}
	opts.output.addFlags(cmd)
	cmd.Flags().StringVarP(&opts.Project, "project", "p", "", "full `path` of the project whose job wrote the logs (the caller)")
	cmd.Flags().StringVar(&opts.Source, "source", "", "snapshot `directory` of the org, to resolve projects and check discovered edges")
	cmd.Flags().StringVar(&opts.Trust, "trust", "", "reviewed intent (`trust.yaml`), to say whether each edge is approved or denied")
	opts.Format.addFlag(cmd, report.DiagnoseFormats)
	return cmd
}

func diagnoseRun(cmd *cobra.Command, opts *diagnoseOptions) error {
	var failures []diagnose.Failure
	for _, name := range opts.Logs {
		fs, err := readLog(opts.io, name)
		if err != nil {
			return err
		}
		failures = append(failures, fs...)
	}
	ctx := diagnose.Context{Caller: opts.Project}
	if opts.Source != "" {
		src := sourceOptions{Dir: opts.Source}
		snap, err := src.load(cmd.Context(), opts.io)
		if err != nil {
			return err
		}
		defer snap.Close()
		if ctx.Server, err = snap.Inventory.Server(); err != nil {
			return err
		}
		ctx.Index = snap.Index
		if opts.Project != "" && snap.Index.Project(opts.Project) == nil {
			return fmt.Errorf("--project %s is not in the snapshot %s (give its full path)", opts.Project, opts.Source)
		}
		if opts.Trust != "" {
			if ctx.Trust, err = loadTrust(opts.io, opts.Trust, trust.LoadOptions{Index: snap.Index, Now: opts.io.Now()}); err != nil {
				return err
			}
		}
		g, _, err := discovery.Scan(cmd.Context(), snap, discovery.Options{})
		if err != nil {
			return err
		}
		ctx.Graph = g
	}
	ds := diagnose.Explain(failures, ctx)
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

func readLog(io *IO, name string) ([]diagnose.Failure, error) {
	if name == "-" {
		return diagnose.Parse("stdin", io.In)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read job log: %w", err)
	}
	defer f.Close()
	return diagnose.Parse(name, f)
}
