package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
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
	// Resume continues the apply journaled in this file; Rollback undoes
	// it (then there is no plan).
	Resume   string
	Rollback string
	Force    bool
	// Unreviewed writes a plan whose trust file still had unreviewed
	// entries.
	Unreviewed bool
	live       liveOptions
}

func newApplyCmd(io *IO, runF func(*applyOptions) error) *cobra.Command {
	opts := &applyOptions{io: io}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json | --rollback JOURNAL",
		Short: "Apply a saved plan to GitLab's allowlists (dry run unless --yes)",
		Long: `Apply makes the GitLab calls of a plan saved with 'tokenscope plan --format json'
(docs/design.md §6b), project by project in wave order: entries and their policies
first, then policy updates, then removals, and enforcement last.

Without --yes it is a dry run: it prints the calls it would make and changes
nothing. Before any call it reads the live allowlists of the plan's projects and
refuses a plan whose allowlists changed since it was computed. A change already
made is reported "already", so applying a plan twice is harmless. Removals are
made only when the plan was computed with --prune; a project's enforcement is
skipped when one of its entries could not be made. With --yes it refuses a plan
computed while trust.yaml still had entries marked unreviewed (drafted by trust
init, not yet reviewed) unless --unreviewed is given.

Every call is journaled (JSON lines, synced after each) to PLAN.journal.jsonl
next to the plan, or --journal. The token comes from GITLAB_TOKEN.

--resume JOURNAL continues an interrupted apply of the same plan (the journal
records the plan's digest; another plan is refused): calls the journal records
as made are not made again, and the journal is appended to.

--rollback JOURNAL undoes what a journal did, last call first: an added entry is
removed, a removed entry added back with its recorded policies, policies restored,
enforcement turned off (GitLab 18.0+ refuses that while the instance enforces
allowlists). It reads the live allowlists first and refuses entries changed since
the journal (listed) unless --force. Dry run unless --yes; the rollback is
journaled to JOURNAL.rollback.jsonl, or --journal.

Progress goes to stderr when it is a terminal.

Exit codes: 0 done, 1 error (including a stale plan), 2 usage, 3 partially
applied or rolled back (what remains is listed).`,
		Example: `  tokenscope plan --gitlab https://gitlab.example.com --group apps --trust trust.yaml --format json -o plan.json
  tokenscope apply plan.json --gitlab https://gitlab.example.com --wave pilot
  tokenscope apply plan.json --gitlab https://gitlab.example.com --wave pilot --yes
  tokenscope apply plan.json --gitlab https://gitlab.example.com --yes --resume plan.journal.jsonl
  tokenscope apply --rollback plan.journal.jsonl --gitlab https://gitlab.example.com --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Rollback != "" {
				if len(args) > 0 {
					return usageErrorf("--rollback takes the journal, not a plan")
				}
				if opts.Resume != "" || opts.Wave != "" {
					return usageErrorf("--rollback goes without --resume and --wave")
				}
				return nil
			}
			if opts.Force {
				return usageErrorf("--force is for --rollback")
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if len(args) > 0 {
				opts.Plan = args[0]
			}
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
	f.StringVar(&opts.Journal, "journal", "", "append the journal to `file` (default: PLAN.journal.jsonl next to the plan; with --rollback JOURNAL.rollback.jsonl)")
	f.StringVar(&opts.Resume, "resume", "", "continue the interrupted apply journaled in `JOURNAL` (same plan); appends to it")
	f.StringVar(&opts.Rollback, "rollback", "", "undo what `JOURNAL` did, last call first (dry run unless --yes)")
	f.BoolVar(&opts.Force, "force", false, "with --rollback: also undo entries changed since the journal")
	f.BoolVar(&opts.Unreviewed, "unreviewed", false, "with --yes: apply a plan computed while trust.yaml still had entries marked unreviewed")
	opts.live.Concurrency, opts.live.Timeout = 1, time.Minute
	return cmd
}

func applyRun(opts *applyOptions) error {
	if opts.Rollback != "" {
		return rollbackRun(opts)
	}
	raw, err := os.ReadFile(opts.Plan)
	if err != nil {
		return err
	}
	doc, err := planfile.ReadFile(opts.Plan)
	if err != nil {
		return err
	}
	c, err := opts.live.newClient(opts.io)
	if err != nil {
		return err
	}
	digest := apply.PlanDigest(raw)
	var resume map[string]bool
	if opts.Resume != "" {
		lines, err := apply.ReadJournal(opts.Resume)
		if err != nil {
			return err
		}
		if resume, err = apply.Resumed(lines, digest); err != nil {
			return fmt.Errorf("--resume %s: %w", opts.Resume, err)
		}
	}
	if _, err := apply.Selected(doc, opts.Wave); err != nil {
		var waves []string
		for _, w := range doc.Waves {
			waves = append(waves, w.Name)
		}
		return &UsageError{Err: fmt.Errorf("--wave: %w%s", err, didYouMean(opts.Wave, waves))}
	}
	o := apply.Options{Wave: opts.Wave, Write: opts.Yes, Now: opts.io.Now, PlanDigest: digest, Resume: resume, Unreviewed: opts.Unreviewed}
	if opts.Yes {
		path := opts.Journal
		switch {
		case path != "":
		case opts.Resume != "":
			// A resumed apply goes on in the same journal, so that one
			// file records (and rolls back) the whole apply.
			path = opts.Resume
		default:
			path = apply.JournalPath(opts.Plan)
		}
		o.Journal = path
	}
	total := 0
	if sel, err := apply.Selected(doc, opts.Wave); err == nil {
		for _, p := range sel {
			total += len(p.Calls)
		}
	}
	prog := &applyProgress{io: opts.io, verb: "applying", total: total}
	defer prog.clear()
	out := opts.io.Out
	if !opts.Yes {
		fmt.Fprintln(out, "Dry run: nothing is changed; run again with --yes to make these calls.")
	}
	wave, project := "\x00", ""
	o.Step = func(s apply.Step) {
		prog.clear()
		defer prog.step()
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
	prog.clear()
	if res != nil {
		fmt.Fprintf(out, "%d done, %d already, %d planned, %d failed, %d skipped\n",
			res.Count(apply.Done), res.Count(apply.Already), res.Count(apply.Planned), res.Count(apply.Failed), res.Count(apply.Skipped))
	}
	if errors.Is(err, apply.ErrUnknownWave) {
		return &UsageError{Err: err}
	}
	return err
}

// rollbackRun undoes a journal.
func rollbackRun(opts *applyOptions) error {
	lines, err := apply.ReadJournal(opts.Rollback)
	if err != nil {
		return err
	}
	c, err := opts.live.newClient(opts.io)
	if err != nil {
		return err
	}
	out := opts.io.Out
	if !opts.Yes {
		fmt.Fprintln(out, "Dry run: nothing is changed; run again with --yes to undo these calls.")
	}
	o := apply.RollbackOptions{Write: opts.Yes, Force: opts.Force, Now: opts.io.Now}
	if opts.Yes {
		o.Journal = opts.Journal
		if o.Journal == "" {
			o.Journal = strings.TrimSuffix(opts.Rollback, ".jsonl") + ".rollback.jsonl"
		}
	}
	prog := &applyProgress{io: opts.io, verb: "rolling back", total: len(apply.Undoable(lines))}
	defer prog.clear()
	project := ""
	o.Step = func(u apply.Undo) {
		prog.clear()
		defer prog.step()
		if u.Line.Project != project {
			project = u.Line.Project
			fmt.Fprintf(out, "  %s\n", project)
		}
		fmt.Fprintf(out, "    %-8s %s\n", u.Outcome, u.Describe())
		if u.Changed != "" {
			fmt.Fprintf(out, "             changed since the journal: %s\n", u.Changed)
		}
		if u.Reason != "" && u.Outcome != apply.Already {
			fmt.Fprintf(out, "             %s\n", u.Reason)
		}
	}
	res, err := apply.Rollback(opts.ctx, lines, apply.Live{Client: c}, o)
	prog.clear()
	var changed *apply.ChangedError
	if errors.As(err, &changed) {
		return fmt.Errorf("%w\n--force undoes them anyway", err)
	}
	if res != nil {
		fmt.Fprintf(out, "%d undone, %d already, %d planned, %d failed\n",
			res.Count(apply.Done), res.Count(apply.Already), res.Count(apply.Planned), res.Count(apply.Failed))
	}
	return err
}

// applyProgress draws "applying [====   ] 12/40" on stderr while calls are
// made, only when stderr is a terminal; the step lines on stdout clear it
// first so that the two never share a line.
type applyProgress struct {
	io          *IO
	verb        string
	done, total int
	drew        bool
}

func (p *applyProgress) step() {
	p.done++
	if !p.io.ErrTTY || p.total == 0 {
		return
	}
	const width = 30
	filled := width * min(p.done, p.total) / p.total
	fmt.Fprintf(p.io.Err, "\r\033[K%s [%s%s] %d/%d", p.verb, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total)
	p.drew = true
}

func (p *applyProgress) clear() {
	if p.drew {
		fmt.Fprint(p.io.Err, "\r\033[K")
		p.drew = false
	}
}
