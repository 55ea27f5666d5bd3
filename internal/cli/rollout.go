package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/rollout"
	"github.com/tokenscope/tokenscope/internal/trust"
)

func newRolloutCmd(io *IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Follow the rollout of the allowlists wave by wave",
		Long: `The rollout enforces the allowlists wave by wave (the waves of trust.yaml), then
org-wide with the instance setting. 'rollout status' says before each wave what
its enforcement would refuse.`,
	}
	cmd.AddCommand(newRolloutStatusCmd(io, nil))
	return cmd
}

type rolloutStatusOptions struct {
	io            *IO
	ctx           context.Context
	source        sourceOptions
	output        outputOptions
	Trust         string
	Plan          string
	Since         string
	Wave          string
	Format        formatOption
	GitLabVersion string
	Quiet         bool
}

func newRolloutStatusCmd(io *IO, runF func(*rolloutStatusOptions) error) *cobra.Command {
	opts := &rolloutStatusOptions{io: io}
	cmd := &cobra.Command{
		Use:   "status SOURCE --trust trust.yaml",
		Short: "Per wave: enforced or not, and the pre-flight: which callers in use enforcement would refuse",
		Long: liveHelp(`Status predicts, for every wave of trust.yaml and then org-wide (the instance
setting "Enable and enforce job token allowlist for all projects", which enforces
every project's allowlist), what GitLab would refuse once the wave is enforced:
per project, whether it is enforced today, its entries against its approvals,
every authentication-log origin with its last time, and every caller (discovered
in CI configuration, or in the authentication log) that the allowlist and its
fine-grained policies would refuse, with the evidence. The prediction is of the
current allowlists, or with --plan of a saved plan's once applied.

A refused caller is approved (apply the plan first), unapproved (review it; do
not widen the allowlist to let it in), denied (intended), never (a job token
cannot do this; use another credential), or archived (its jobs no longer run).
A wave is "safe to enforce", or "blocked by N callers" (the approved, unapproved
and denied ones).

The triggering users are assumed to have the role each access needs.

Formats: table, json (versioned; docs/design.md §8c), markdown.

Exit codes: 0 nothing would break, 1 error, 2 usage, 3 a wave (or the --wave
given) would refuse a caller in use.`),
		Example: `  tokenscope rollout status examples/acme --trust examples/acme/trust.yaml
  tokenscope plan examples/acme --trust examples/acme/trust.yaml --format json -o plan.json
  tokenscope rollout status examples/acme --trust examples/acme/trust.yaml --plan plan.json --wave pilot
  tokenscope rollout status --gitlab https://gitlab.example.com --group apps --trust trust.yaml --since 30d`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.source.from(args)
			defer opts.source.cleanup()
			if err := opts.Format.check(); err != nil {
				return err
			}
			if opts.Trust == "" {
				return usageErrorf("--trust is required: the waves and approvals are in trust.yaml")
			}
			if opts.Since != "" {
				if _, err := rolloutSince(opts.Since, opts.io.Now()); err != nil {
					return &UsageError{Err: fmt.Errorf("--since: %w", err)}
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return rolloutStatusRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	opts.output.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&opts.Trust, "trust", "t", "", "reviewed intent and waves: trust.yaml `file` (required)")
	f.StringVar(&opts.Plan, "plan", "", "predict the allowlists of this saved plan (`plan.json`, from plan --format json) once applied")
	f.StringVar(&opts.Since, "since", "", "count authentication-log rows last seen since `D` (7d, 12h, 2026-11-01, RFC 3339)")
	f.StringVar(&opts.Wave, "wave", "", "only this `wave` (a trust.yaml wave name, or "+rollout.OrgWide+")")
	opts.Format.addFlag(cmd, report.RolloutFormats)
	f.StringVar(&opts.GitLabVersion, "gitlab-version", "", "predict for this GitLab `version` (default: the inventory's gitlab_version)")
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

// rolloutSince reads --since: a number of days (7d), a Go duration (12h),
// a date (UTC midnight) or an RFC 3339 time; durations count back from now.
func rolloutSince(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a number of days (7d), a duration (12h), a date (2026-11-01) or an RFC 3339 time", s)
}

func rolloutStatusRun(opts *rolloutStatusOptions) error {
	var ro rollout.Options
	v, err := gitlabVersionFlag(opts.GitLabVersion)
	if err != nil {
		return err
	}
	ro.GitLabVersion = v
	if opts.Since != "" {
		ro.Since, _ = rolloutSince(opts.Since, opts.io.Now()) // checked by the wrapper
	}
	if opts.Plan != "" {
		// The plan is read before the source: a wrong file is cheap to
		// find, a live read is not.
		doc, err := planfile.ReadFile(opts.Plan)
		if err != nil {
			return err
		}
		ro.Plan, ro.PlanFile = doc, opts.Plan
	}
	ctx := opts.ctx
	opts.source.Quiet = opts.Quiet
	snap, err := opts.source.load(ctx, opts.io)
	if err != nil {
		return err
	}
	defer snap.Close()
	tf, err := loadTrust(opts.io, opts.Trust, trust.LoadOptions{Index: snap.Index, Now: opts.io.Now()}, opts.Quiet)
	if err != nil {
		return err
	}
	g, diags, err := discovery.Scan(ctx, snap, discovery.Options{Limits: opts.source.Limits})
	if err != nil {
		return err
	}
	printDiags(opts.io, diags, opts.Quiet)
	st := rollout.Compute(g, snap.Index, tf, ro)
	if opts.Wave != "" {
		w, ok := st.Wave(opts.Wave)
		if !ok {
			names := make([]string, 0, len(st.Waves))
			for _, w := range st.Waves {
				names = append(names, w.Name)
			}
			return usageErrorf("--wave: unknown wave %q (waves: %s)", opts.Wave, strings.Join(names, ", "))
		}
		st.Waves = []rollout.Wave{w}
	}
	if err := opts.output.write(opts.io, func(w io.Writer) error { return report.Rollout(w, st, opts.Format.Value) }); err != nil {
		return err
	}
	if slices.ContainsFunc(st.Waves, func(w rollout.Wave) bool { return w.Verdict == rollout.Blocked }) {
		return ErrFindings
	}
	return nil
}
