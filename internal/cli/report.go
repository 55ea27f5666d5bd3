package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/inventoryreport"
	"github.com/tokenscope/tokenscope/internal/plan"
)

type reportOptions struct {
	io            *IO
	ctx           context.Context
	source        sourceOptions
	Trust         string
	Output        string
	GitLabVersion string
	Quiet         bool
}

func newReportCmd(io *IO, runF func(*reportOptions) error) *cobra.Command {
	opts := &reportOptions{io: io}
	cmd := &cobra.Command{
		Use:   "report SOURCE -o DIR",
		Short: "Write the auditable inventory of job-token edges: HTML, Markdown, CSV, JSON",
		Long: liveHelp(`Report writes the inventory of every caller → callee edge (discovered, approved
in --trust, or on an allowlist today) as a directory:

  index.html      one self-contained page (no network): summary, the graph as a
                  picture (one box per top-level group for a big org, with a
                  drill-down per group), "which allowlists is my project on",
                  every edge with access, policies, evidence linked to GitLab,
                  origin, last seen, owner, reason and expiry; search and filters
  inventory.md    the same for GitLab (a Mermaid graph; one file per group when
                  one file would pass GitLab's 1 MB limit)
  edges.csv       one row per edge (RFC 4180, formula cells defused)
  inventory.json  the versioned document the others are drawn from (docs/design.md)

DIR is replaced atomically, and only when it is missing, empty, or a report
tokenscope wrote (it holds a .tokenscope-report marker).`),
		Example: `  tokenscope report examples/acme --trust examples/acme/trust.yaml -o inventory
  tokenscope report ./snapshot --trust trust.yaml -o public`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if opts.Output == "" {
				return usageErrorf("-o DIR is required: the report directory to write")
			}
			opts.source.from(args)
			defer opts.source.cleanup()
			if runF != nil {
				return runF(opts)
			}
			return reportRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&opts.Trust, "trust", "t", "", "reviewed intent: trust.yaml `file` (without it nothing is approved)")
	f.StringVarP(&opts.Output, "output", "o", "", "report `directory` to write (replaced atomically, and only if empty or a report it wrote)")
	f.StringVar(&opts.GitLabVersion, "gitlab-version", "", "policies for this GitLab `version` (default: the inventory's gitlab_version)")
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

func reportRun(opts *reportOptions) error {
	var popts plan.Options
	v, err := gitlabVersionFlag(opts.GitLabVersion)
	if err != nil {
		return err
	}
	popts.GitLabVersion = v
	ctx := opts.ctx
	opts.source.Quiet = opts.Quiet
	snap, err := opts.source.load(ctx, opts.io)
	if err != nil {
		return err
	}
	defer snap.Close()
	p, tf, err := computePlan(ctx, opts.io, snap, opts.Trust, opts.Quiet, popts, opts.source.Limits)
	if err != nil {
		return err
	}
	doc := inventoryreport.Build(inventoryreport.Input{Plan: p, Index: snap.Index, Trust: tf, Now: opts.io.Now()})
	files, err := inventoryreport.Files(doc)
	if err != nil {
		return err
	}
	if err := inventoryreport.Write(ctx, opts.Output, files); err != nil {
		if nr := (*inventoryreport.NotReportError)(nil); errors.As(err, &nr) {
			return fmt.Errorf("-o %s: %s; give a new or empty directory, or one tokenscope report wrote", nr.Dir, nr.Reason)
		}
		return err
	}
	if !opts.Quiet {
		s := doc.Summary
		fmt.Fprintf(opts.io.Err, "wrote %s: %d projects, %d edges (%d approved, %d pending review, %d drift), %d files\n",
			opts.Output, s.Projects, s.Edges, s.Approved, s.Pending, s.Drift, len(files))
		if !p.Trusted {
			fmt.Fprintf(opts.io.Err, "tokenscope: WARNING: no --trust file: nothing is approved, every discovered edge is proposed\n")
		}
	}
	return nil
}
