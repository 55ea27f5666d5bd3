package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/apply"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

type applyOptions struct {
	io      *IO
	ctx     context.Context
	Plan    string
	Wave    string
	Yes     bool
	Journal string
	live    liveOptions
}

func newApplyCmd(io *IO, runF func(*applyOptions) error) *cobra.Command {
	opts := &applyOptions{io: io}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Apply a saved plan to GitLab's allowlists (dry run unless --yes)",
		Long: `Apply makes the GitLab calls of a plan saved with 'tokenscope plan --format json'
(docs/design.md §6b), project by project in wave order: entries and their policies
first, then policy updates, then removals, and enforcement last.

Without --yes it is a dry run: it prints the calls it would make and changes
nothing. Before any call it reads the live allowlists of the plan's projects and
refuses a plan whose allowlists changed since it was computed. A change already
made is reported "already", so applying a plan twice is harmless. Removals are
made only when the plan was computed with --prune; a project's enforcement is
skipped when one of its entries could not be made.

Every call is journaled (JSON lines, synced after each) to PLAN.journal.jsonl
next to the plan, or --journal. The token comes from GITLAB_TOKEN.

Exit codes: 0 done, 1 error (including a stale plan), 2 usage, 3 partially
applied (what remains is listed).`,
		Example: `  tokenscope plan --gitlab https://gitlab.example.com --group apps --trust trust.yaml --format json -o plan.json
  tokenscope apply plan.json --gitlab https://gitlab.example.com --wave pilot
  tokenscope apply plan.json --gitlab https://gitlab.example.com --wave pilot --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx, opts.Plan = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return applyRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.live.URL, "gitlab", "", "GitLab `URL` to apply to (default $GITLAB_URL); token from $GITLAB_TOKEN")
	f.StringVar(&opts.live.CAFile, "ca-file", "", "PEM `file` of extra certificate authorities to trust for GitLab")
	f.StringVar(&opts.Wave, "wave", "", "apply only the projects of this `wave` of the plan")
	f.BoolVar(&opts.Yes, "yes", false, "make the calls (without it: a dry run)")
	f.StringVar(&opts.Journal, "journal", "", "append the journal to `file` (default: PLAN.journal.jsonl next to the plan)")
	opts.live.Concurrency, opts.live.Timeout = 1, time.Minute
	return cmd
}

func applyRun(opts *applyOptions) error {
	doc, err := planfile.ReadFile(opts.Plan)
	if err != nil {
		return err
	}
	c, err := opts.live.newClient(opts.io)
	if err != nil {
		return err
	}
	if _, err := apply.Selected(doc, opts.Wave); err != nil {
		return &UsageError{Err: fmt.Errorf("--wave: %w", err)}
	}
	o := apply.Options{Wave: opts.Wave, Write: opts.Yes, Now: opts.io.Now}
	if opts.Yes {
		path := opts.Journal
		if path == "" {
			path = apply.JournalPath(opts.Plan)
		}
		o.Journal = path
	}
	out := opts.io.Out
	if !opts.Yes {
		fmt.Fprintln(out, "Dry run: nothing is changed; run again with --yes to make these calls.")
	}
	wave, project := "\x00", ""
	o.Step = func(s apply.Step) {
		if s.Wave != wave {
			wave = s.Wave
			name := s.Wave
			if name == "" {
				name = "(no wave)"
			}
			fmt.Fprintf(out, "wave %s\n", name)
			project = ""
		}
		if s.Project != project {
			project = s.Project
			fmt.Fprintf(out, "  %s\n", s.Project)
		}
		fmt.Fprintf(out, "    %-8s %s: %s\n", s.Outcome, apply.Describe(s.Call), apply.Request(s.Call))
		if s.Reason != "" && s.Outcome != apply.Already {
			fmt.Fprintf(out, "             %s\n", s.Reason)
		}
	}
	res, err := apply.Run(opts.ctx, doc, apply.Live{Client: c}, o)
	if res != nil {
		fmt.Fprintf(out, "%d done, %d already, %d planned, %d failed, %d skipped\n",
			res.Count(apply.Done), res.Count(apply.Already), res.Count(apply.Planned), res.Count(apply.Failed), res.Count(apply.Skipped))
	}
	if errors.Is(err, apply.ErrUnknownWave) {
		return &UsageError{Err: err}
	}
	return err
}
