package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/trust"
)

func newTrustCmd(io *IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Draft and check trust.yaml, the reviewed intent for job-token access",
		Long: `trust.yaml is the reviewed intent: which caller may reach which callee with its
job token, with which access, why and who answers for it; group grants (explicit
widenings); deny rules; and the rollout waves. Keep it in a repository and change
it through merge requests. See docs/design.md.`,
	}
	cmd.AddCommand(newTrustInitCmd(io, nil), newTrustCheckCmd(io, nil))
	return cmd
}

type trustInitOptions struct {
	io     *IO
	ctx    context.Context
	source sourceOptions
	Output string
	Force  bool
	Quiet  bool
}

func newTrustInitCmd(io *IO, runF func(*trustInitOptions) error) *cobra.Command {
	opts := &trustInitOptions{io: io}
	cmd := &cobra.Command{
		Use:   "init SOURCE",
		Short: "Draft trust.yaml from what discovery finds, evidence as comments",
		Long: liveHelp(`Init scans SOURCE (a snapshot directory) and writes a draft trust.yaml for a human
to review in a merge request: every discovered edge with its access kinds and its
evidence as comments (origin, file:line, job, what was matched), placeholders for
reason and owner, unresolved references as comments to look at, and suggested
rollout waves (a pilot of callees with few callers, then top-level groups, then
everything). Accesses a job token can never make are listed, not drafted.

The draft starts from today's allowlists (the inventory's job_token_scope): an
entry with a discovered use is noted on its edge; an entry without one is
drafted too, marked "on the allowlist, no use found" for review (still
unreviewed: true), and group entries become group grants to review, so that
no entry surfaces later as "unapproved" and is pruned unseen. Without GraphQL
access to the authentication log, --auth-log-csv PROJECT=FILE reads the CSV that
the project's Authentication log exports (repeatable); its rows are auth-log
uses.

The file is written atomically. An existing file is never overwritten without
--force: it may hold reviewed intent.`),
		Example: `  tokenscope trust init examples/acme -o trust.yaml
  tokenscope trust init ./snapshot --auth-log-csv libs/jslib=job-token-authorizations-201.csv
  tokenscope trust init ./snapshot                 # to standard output`,
		Args: opts.source.args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.source.from(args)
			defer opts.source.cleanup()
			if runF != nil {
				return runF(opts)
			}
			return trustInitRun(opts)
		},
	}
	opts.source.addFlags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the draft to `file` (atomically) instead of standard output")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing output file")
	addQuietFlag(cmd, &opts.Quiet)
	return cmd
}

func trustInitRun(opts *trustInitOptions) error {
	if opts.Output != "" && opts.Output != "-" && !opts.Force {
		if _, err := os.Stat(opts.Output); err == nil {
			return fmt.Errorf("%s exists and may hold reviewed intent; review the new draft elsewhere, or pass --force to overwrite it", opts.Output)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", opts.Output, err)
		}
	}
	opts.source.Quiet = opts.Quiet
	snap, err := opts.source.load(opts.ctx, opts.io)
	if err != nil {
		return err
	}
	defer snap.Close()
	g, diags, err := discovery.Scan(opts.ctx, snap, discovery.Options{Limits: opts.source.Limits})
	if err != nil {
		return err
	}
	printDiags(opts.io, diags, opts.Quiet)
	// The draft starts from today's allowlists: their entries are drafted
	// with the uses that explain them, or for review when none does.
	draft := trust.Draft(g, trust.DraftOptions{Source: opts.source.Dir, Inventory: snap.Inventory})
	out := outputOptions{Path: opts.Output}
	if err := out.write(opts.io, func(w io.Writer) error { _, err := w.Write(draft); return err }); err != nil {
		return err
	}
	if opts.Output != "" && opts.Output != "-" {
		// Count what the file holds, not what the scan found: accesses a
		// job token can never make are listed as comments, not drafted.
		written, _ := trust.Load(opts.Output, draft, trust.LoadOptions{Now: opts.io.Now()})
		n := 0
		if written != nil {
			n = len(written.Edges)
		}
		listed := trust.ListedWithoutUse(g, snap.Inventory)
		msg := fmt.Sprintf("wrote %s: %d edge(s) to review", opts.Output, n)
		if listed > 0 {
			msg += fmt.Sprintf(" (%d on the allowlist with no use found)", listed)
		}
		if never := len(g.Edges) + listed - n; never > 0 {
			msg += fmt.Sprintf(", %d edge(s) a job token can never make (listed as comments, not drafted)", never)
		}
		fmt.Fprintf(opts.io.Err, "%s, %d unresolved reference(s) to look at\n", msg, len(g.Unresolved))
	}
	return nil
}

type trustCheckOptions struct {
	io     *IO
	File   string
	Source string
	Quiet  bool
	Limits limits.Values // --limit, for reading --source
}

func newTrustCheckCmd(io *IO, runF func(*trustCheckOptions) error) *cobra.Command {
	opts := &trustCheckOptions{io: io}
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate trust.yaml; every mistake with its line",
		Long: `Check validates a trust file and prints every mistake with its line: unknown
fields and access kinds, a caller equal to its callee, duplicate edges, missing
reasons, expired approvals (a warning: they stop counting), placeholders left from
the draft, and entries still marked "unreviewed: true" (trust init marks every
entry it drafts; a reviewer deletes the marker). With --source, every project and
group is checked against that snapshot: an unknown name is an error suggesting the
nearest known ones; a name outside the snapshot's scope (an archived project it
skipped, a group it did not read) is a warning naming the flag that reads it.
Without --source names cannot be checked, and check says so. Exit code 1 when
there are errors or unreviewed entries; warnings alone exit 0.`,
		Example: `  tokenscope trust check trust.yaml --source examples/acme`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return trustCheckRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Source, "source", "", "snapshot `directory` whose inventory the file must match")
	addQuietFlag(cmd, &opts.Quiet)
	addLimitFlag(cmd, &opts.Limits)
	return cmd
}

func trustCheckRun(opts *trustCheckOptions) error {
	lo := trust.LoadOptions{Now: opts.io.Now()}
	if opts.Source != "" {
		src := sourceOptions{Dir: opts.Source, Quiet: opts.Quiet, Limits: opts.Limits}
		snap, err := src.load(context.Background(), opts.io)
		if err != nil {
			return err
		}
		defer snap.Close()
		lo.Index = snap.Index
	}
	f, err := loadTrust(opts.io, opts.File, lo, opts.Quiet)
	if err != nil {
		return err
	}
	// The counts first: they describe the file whether or not its review is
	// done.
	counts := fmt.Sprintf("%s: %d edge(s), %d group grant(s), %d deny rule(s), %d wave(s), %d open exception(s)", opts.File, len(f.Edges), len(f.Groups), len(f.Deny), len(f.Waves), len(f.Open))
	if len(f.Outside) > 0 {
		counts += fmt.Sprintf(", %d entr%s outside the snapshot's scope", len(f.Outside), map[bool]string{true: "y", false: "ies"}[len(f.Outside) == 1])
	}
	fmt.Fprintln(opts.io.Out, counts)
	if opts.Source == "" && !opts.Quiet {
		// Without an inventory a misspelt project passes: say so, so that
		// exit 0 is not read as "the names are right".
		fmt.Fprintf(opts.io.Err, "note: project and group names were not checked (no snapshot to check them against); run tokenscope trust check %s --source SNAPSHOT\n", opts.File)
	}
	// An unreviewed entry is valid (plan reads it, as needs review) but the
	// review is not done: check fails so a merge request pipeline can gate
	// on it, naming each entry's line, in the scope or not.
	pending := append(f.Unreviewed(), f.OutsideUnreviewed()...)
	slices.SortFunc(pending, func(a, b trust.Pending) int { return a.Line - b.Line })
	if len(pending) > 0 {
		var ds diag.List
		for _, p := range pending {
			ds.Errorf("", opts.File, p.Line, "%s is still marked unreviewed: review it, then delete \"unreviewed: true\"", p.What)
		}
		printDiags(opts.io, ds, false)
		return fmt.Errorf("%s has %d unreviewed entr%s; a draft is not a review", opts.File, len(pending), map[bool]string{true: "y", false: "ies"}[len(pending) == 1])
	}
	return nil
}

// loadTrust loads and validates a trust file, printing its diagnostics;
// errors in it fail the command.
func loadTrust(io *IO, path string, opts trust.LoadOptions, quiet bool) (*trust.File, error) {
	f, diags, err := trust.LoadFile(path, opts)
	if err != nil {
		return nil, err
	}
	printDiags(io, diags, quiet)
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == diag.Error {
				n++
			}
		}
		return nil, fmt.Errorf("%s has %d error(s); fix them and run again", path, n)
	}
	return f, nil
}
