package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/report"
)

type scanOptions struct {
	io     *IO
	ctx    context.Context
	source sourceOptions
	output outputOptions
	Format formatOption
	Quiet  bool
}

func newScanCmd(io *IO, runF func(*scanOptions) error) *cobra.Command {
	opts := &scanOptions{io: io}
	cmd := &cobra.Command{
		Use:   "scan SOURCE",
		Short: "Discover every cross-project CI_JOB_TOKEN edge, with evidence",
		Long: liveHelp(`Scan reads a snapshot directory (one folder per project, optional inventory.yaml)
and prints every caller → callee edge where a job in the caller uses its job token
to reach the callee, each with the evidence a reviewer needs (file:line, job,
what was matched). References that cannot be resolved to a project are listed
with the reason; look-alikes that are not job-token edges are listed as notes.`),
		Example: `  tokenscope scan examples/acme
  tokenscope scan examples/acme --format json -o edges.json
  tokenscope scan ./clones --server-url https://gitlab.example.com --format markdown`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.source.from(args)
			defer opts.source.cleanup()
			if err := opts.Format.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return scanRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	opts.output.addFlags(cmd)
	opts.Format.addFlag(cmd, report.ScanFormats)
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

func scanRun(opts *scanOptions) error {
	ctx := opts.ctx
	opts.source.Quiet = opts.Quiet
	snap, err := opts.source.load(ctx, opts.io)
	if err != nil {
		return err
	}
	defer snap.Close()
	g, diags, err := discovery.Scan(ctx, snap, discovery.Options{Limits: opts.source.Limits})
	if err != nil {
		return err
	}
	printDiags(opts.io, diags, opts.Quiet)
	if len(diags) > 0 && !opts.Quiet {
		fmt.Fprintf(opts.io.Err, "%d configuration problem(s); the scan went on without the parts that could not be read\n", len(diags))
	}
	return opts.output.write(opts.io, func(w io.Writer) error { return report.Scan(w, g, opts.Format.Value) })
}
