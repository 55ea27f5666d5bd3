package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/report"
)

type planOptions struct {
	io               *IO
	ctx              context.Context
	source           sourceOptions
	output           outputOptions
	Trust            string
	Prune            bool
	Format           formatOption
	GitLabVersion    string
	DetailedExitCode bool
	Quiet            bool
	Limit            int
	// Steps is how the table prints each callee's steps: "actions" (one
	// line per action) or "full" (with the UI clicks and API calls).
	Steps   string
	NoColor bool
}

// planSteps are the values of plan's --steps.
var planSteps = []string{"actions", "full"}

func newPlanCmd(io *IO, runF func(*planOptions) error) *cobra.Command {
	opts := &planOptions{io: io}
	cmd := &cobra.Command{
		Use:   "plan SOURCE",
		Short: "Plan every callee's allowlist: edge table, UI and API steps, rollout checklist",
		Long: liveHelp(`Plan compares what discovery finds in SOURCE (a snapshot directory) and the reviewed
intent in --trust with the allowlists in the inventory, and prints for every callee
project what to add, keep, update and remove, with least-privilege fine-grained
policies for the GitLab version (inventory gitlab_version, or --gitlab-version).

Rules: discovered and approved: add (or keep when already covered); discovered and
not approved: needs review, never added; approved and not discovered: stale, kept
and flagged; on the allowlist and not approved: removed only with --prune; deny
rules win over everything; callees with approved callers get "enforce". Without
--trust every discovered edge is proposed, unreviewed, and the output says so.

Formats: table (summary, edge table, the steps per callee in wave order, one
line per action (--steps full adds the UI clicks and API calls), rollout
checklist; prose wrapped at 100 columns or $COLUMNS; coloured on a terminal
unless NO_COLOR is set or --no-color),
json (versioned; documented in docs/design.md), markdown (the same with a
Mermaid graph, for a merge request), script (bash: dry run unless --execute,
token from GITLAB_TOKEN), terraform (gitlab_project_job_token_scopes per callee).

Exit codes: 0 ok, 1 error (including mistakes in the trust file), 2 usage; with
--detailed-exitcode, 3 when changes are pending (a call to make: add, update,
remove, enforce), as Terraform's plan does. Standing items (edges to review,
stale, denied, unapproved or impossible entries) do not change the exit code;
'tokenscope audit' reports them and fails on them when asked.`),
		Example: `  tokenscope plan examples/acme --trust examples/acme/trust.yaml
  tokenscope plan examples/acme --trust examples/acme/trust.yaml --format markdown -o plan.md
  tokenscope plan examples/acme --trust examples/acme/trust.yaml --format script -o plan.sh
  tokenscope plan ./snapshot --trust trust.yaml --prune --detailed-exitcode`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.source.from(args)
			defer opts.source.cleanup()
			if err := opts.Format.check(); err != nil {
				return err
			}
			if !slices.Contains(planSteps, opts.Steps) {
				return usageErrorf("unknown --steps %q (valid: %s)", opts.Steps, strings.Join(planSteps, ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return planRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	opts.output.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&opts.Trust, "trust", "t", "", "reviewed intent: trust.yaml `file` (without it, every discovered edge is proposed)")
	f.BoolVar(&opts.Prune, "prune", false, "remove allowlist entries no approval covers (without it they are kept and listed)")
	opts.Format.addFlag(cmd, report.PlanFormats)
	f.StringVar(&opts.GitLabVersion, "gitlab-version", "", "plan for this GitLab `version` (default: the inventory's gitlab_version)")
	f.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 3 when changes are pending (calls to make), 0 when there are none")
	f.StringVar(&opts.Steps, "steps", "actions", "table steps: `actions` (one line per action) or full (with the UI clicks and API calls)")
	f.BoolVar(&opts.NoColor, "no-color", false, "no colour in the table, even on a terminal (NO_COLOR in the environment does the same)")
	addQuietFlag(cmd, &opts.Quiet)
	f.IntVar(&opts.Limit, "allowlist-limit", plan.DefaultProjectLimit, "project entries GitLab allows per allowlist")
	_ = f.MarkHidden("allowlist-limit")
	return cmd
}

// planHints word plan's and report's remedies with plan's flags.
var planHints = report.PlanHints{
	Trust:            "--trust",
	Prune:            "--prune",
	GitLabVersion:    "--gitlab-version",
	Format:           "--format",
	DetailedExitCode: "--detailed-exitcode",
	Steps:            "--steps",
}

func planRun(opts *planOptions) error {
	var popts plan.Options
	popts.Prune = opts.Prune
	popts.ProjectLimit = opts.Limit
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
	p, _, err := computePlan(ctx, opts.io, snap, opts.Trust, opts.Quiet, popts, opts.source.Limits)
	if err != nil {
		return err
	}
	h := planHints
	h.FullSteps = opts.Steps == "full"
	h.Color = colorOn(opts.io, opts.output, opts.NoColor)
	h.Width = columnsEnv(opts.io)
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Plan(w, p, opts.Format.Value, h) }); err != nil {
		return err
	}
	if !p.Trusted && !opts.Quiet {
		fmt.Fprintf(opts.io.Err, "tokenscope: WARNING: no --trust file: every discovered edge is proposed, not reviewed\n")
	}
	if opts.Format.Value != report.FormatTable && opts.Format.Value != report.FormatMarkdown && len(p.Warnings) > 0 && !opts.Quiet {
		for _, w := range p.Warnings {
			if w.Kind == plan.WarnNoTrust {
				continue // the WARNING above says it, once
			}
			fmt.Fprintf(opts.io.Err, "warning: %s\n", report.PlanWarning(w, planHints))
		}
	}
	if opts.DetailedExitCode && pendingChanges(p) {
		return ErrFindings
	}
	return nil
}

// pendingChanges reports whether applying p would call GitLab: what
// --detailed-exitcode exits 3 for, as Terraform's plan does
// (https://developer.hashicorp.com/terraform/cli/commands/plan#detailed-exitcode).
// Standing items (reviews, stale approvals, impossible accesses) are no
// change: they are audit's to report.
func pendingChanges(p *plan.Plan) bool {
	for _, pr := range p.Projects {
		if pr.Changes() {
			return true
		}
	}
	return false
}

// colorOn decides whether a table is painted: only on a terminal, never
// into a file (-o) or a pipe, and not when the user opted out with
// --no-color or the NO_COLOR environment variable (any non-empty value,
// https://no-color.org).
func colorOn(io *IO, out outputOptions, noColor bool) bool {
	if noColor || !io.OutTTY || (out.Path != "" && out.Path != "-") {
		return false
	}
	return io.Getenv == nil || io.Getenv("NO_COLOR") == ""
}

// columnsEnv is the width set in COLUMNS (as shells and less(1) read it),
// for a terminal wider or narrower than the table's 100 columns; 0 when
// unset or not a sensible width.
func columnsEnv(io *IO) int {
	if io.Getenv == nil {
		return 0
	}
	n, err := strconv.Atoi(io.Getenv("COLUMNS"))
	if err != nil || n < 40 || n > 10000 {
		return 0
	}
	return n
}
