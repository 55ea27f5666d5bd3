package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/audit"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/report"
)

type auditOptions struct {
	io            *IO
	ctx           context.Context
	source        sourceOptions
	output        outputOptions
	Trust         string
	FailOn        string
	Format        formatOption
	GitLabVersion string
	Quiet         bool
}

func newAuditCmd(io *IO, runF func(*auditOptions) error) *cobra.Command {
	opts := &auditOptions{io: io}
	cmd := &cobra.Command{
		Use:   "audit SOURCE --trust trust.yaml",
		Short: "Check that the allowlists still match the reviewed intent (drift, for a scheduled pipeline)",
		Long: liveHelp(`Audit compares the allowlists in SOURCE (a snapshot directory) with the reviewed
intent in --trust and lists every difference, each with its project, entry and
what to do.

Drift (fails the audit): an entry on an allowlist that no approval covers
(unapproved) or that must go (remove: denied, or replaced by a group entry), an
approved entry missing from its allowlist (missing), policies wider or narrower
than approved (wider, narrower), an allowlist not enforced without an open:
exception (not-enforced), an expired approval or exception (expired), an
approval without an owner (no-owner), an allowlist the token cannot read
(unknown).

Standing findings (reported; fail only when named in --fail-on): a discovered use
waiting for review (review), an approval nothing uses (stale), an access a job
token can never make (impossible), a use a deny rule forbids (denied), a drafted
entry still marked unreviewed (unreviewed).

A finding listed in trust.yaml's acknowledged: (kind, project, entry, reason,
owner, optional expires) is reported but does not fail until it expires.

Formats: table, json (versioned; docs/design.md), markdown (for an issue or a
merge request), codequality (GitLab's Code Quality report, for
artifacts:reports:codequality).

Exit codes: 0 the org matches its reviewed intent, 3 a finding fails (drift, or a
--fail-on kind), 1 error (including mistakes in the trust file), 2 usage.`),
		Example: `  tokenscope audit examples/acme --trust examples/acme/trust.yaml
  tokenscope audit ./snapshot --trust trust.yaml --fail-on review,stale
  tokenscope audit --gitlab https://gitlab.example.com --group apps --trust trust.yaml --format codequality -o gl-code-quality-report.json`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.source.from(args)
			defer opts.source.cleanup()
			if err := opts.Format.check(); err != nil {
				return err
			}
			if opts.Trust == "" {
				return usageErrorf("--trust is required: audit compares the org with its reviewed intent")
			}
			if _, err := audit.ParseKinds(opts.FailOn); err != nil {
				return &UsageError{Err: fmt.Errorf("--fail-on: %w", err)}
			}
			if runF != nil {
				return runF(opts)
			}
			return auditRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	opts.output.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&opts.Trust, "trust", "t", "", "reviewed intent: trust.yaml `file` (required)")
	f.StringVar(&opts.FailOn, "fail-on", "", "also fail on these standing finding `kinds` (comma-separated: review, stale, impossible, denied, unreviewed; or all)")
	opts.Format.addFlag(cmd, report.AuditFormats)
	f.StringVar(&opts.GitLabVersion, "gitlab-version", "", "audit for this GitLab `version` (default: the inventory's gitlab_version)")
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

func auditRun(opts *auditOptions) error {
	failOn, err := audit.ParseKinds(opts.FailOn)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--fail-on: %w", err)}
	}
	var popts plan.Options
	v, err := gitlabVersionFlag(opts.GitLabVersion)
	if err != nil {
		return err
	}
	popts.GitLabVersion = v
	opts.source.Quiet = opts.Quiet
	snap, err := opts.source.load(opts.ctx, opts.io)
	if err != nil {
		return err
	}
	defer snap.Close()
	// The audit is a view of the plan: an unpruned one, so that entries no
	// approval covers are listed as unapproved rather than removed.
	p, tf, err := computePlan(opts.ctx, opts.io, snap, opts.Trust, opts.Quiet, popts, opts.source.Limits)
	if err != nil {
		return err
	}
	if !opts.Quiet {
		for _, w := range p.Warnings {
			fmt.Fprintf(opts.io.Err, "warning: %s\n", report.PlanWarning(w, planHints))
		}
	}
	r := audit.Audit(p, snap.Index, tf, audit.Options{FailOn: failOn})
	meta := report.AuditMeta{Source: opts.source.Dir}
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Audit(w, r, opts.Format.Value, meta) }); err != nil {
		return err
	}
	if r.Failed() {
		return ErrFindings
	}
	return nil
}
