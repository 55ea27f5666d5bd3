// Package cli is tokenscope's command line: one file per command, each an
// options struct, a thin cobra wrapper and a run function. It is the only
// package that knows about flags, streams and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenscope/tokenscope/internal/redact"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Main runs tokenscope with args and returns the exit code.
func Main(ctx context.Context, args []string, io *IO) int {
	// One redaction for everything tokenscope prints, whichever code path
	// made the text (evidence, notes, errors, help): a secret copied from a
	// repository or a job log never reaches the terminal or a pipeline log.
	out, errOut := redact.NewWriter(io.Out), redact.NewWriter(io.Err)
	masked := *io
	masked.Out, masked.Err = out, errOut
	io = &masked
	defer func() {
		_ = out.Flush()
		_ = errOut.Flush()
	}()
	root := NewRoot(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	// Cancelled (Ctrl-C, SIGTERM): every goroutine that was waiting says
	// "context canceled" in its own words, joined into one error; the user
	// needs to hear it once.
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrFindings) {
		if code == ExitFindings {
			// A partial apply: what it made and how to resume matter more.
			fmt.Fprintf(io.Err, "tokenscope: interrupted: %s\n", err)
		} else {
			fmt.Fprintln(io.Err, "tokenscope: interrupted")
		}
		return code
	}
	// ErrFindings is silent (the output said what); other errors, exit 3
	// included (a partial apply), are printed once, here.
	if err != nil && !errors.Is(err, ErrFindings) {
		fmt.Fprintf(io.Err, "tokenscope: %s\n", err)
		if code == ExitUsage {
			fmt.Fprintf(io.Err, "Run 'tokenscope %s --help' for usage.\n", commandPath(root, args))
		}
	}
	return code
}

// NewRoot builds the command tree.
func NewRoot(io *IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "tokenscope",
		Short: "Lock down CI_JOB_TOKEN: discover cross-project job-token edges and plan least-privilege allowlists",
		Long: `tokenscope finds which projects' CI jobs use their CI_JOB_TOKEN to reach which
other projects, turns that into a reviewed, least-privilege inbound allowlist per
project, and helps roll it out.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newScanCmd(io, nil))
	root.AddCommand(newDiagnoseCmd(io, nil))
	root.AddCommand(newTrustCmd(io), newPlanCmd(io, nil), newExplainCmd(io, nil))
	root.AddCommand(newSnapshotCmd(io, nil))
	root.AddCommand(newApplyCmd(io, nil))
	root.AddCommand(newAuditCmd(io, nil))
	root.AddCommand(newRolloutCmd(io))
	root.AddCommand(newReportCmd(io, nil))
	root.AddCommand(newLimitsTopic())
	return root
}

// flagError makes cobra's flag parsing errors usage errors.
func flagError(_ *cobra.Command, err error) error { return &UsageError{Err: err} }

func commandPath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c == nil || c == root {
		return ""
	}
	return strings.TrimPrefix(c.CommandPath(), "tokenscope ")
}
