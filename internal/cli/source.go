package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/atomicfile"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// sourceOptions are the flags every command that reads an org shares:
// SOURCE is a snapshot directory.
type sourceOptions struct {
	Dir       string
	ServerURL string
}

func (o *sourceOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.ServerURL, "server-url", "", "GitLab `URL` jobs see as CI_SERVER_URL, when the snapshot has no inventory.yaml (default "+inventory.DefaultServerURL+")")
}

// load reads the snapshot. Diagnostics about the snapshot go to stderr.
func (o *sourceOptions) load(_ context.Context, io *IO) (*inventory.Snapshot, error) {
	snap, diags, err := inventory.Load(o.Dir, inventory.LoadOptions{ServerURL: o.ServerURL})
	if err != nil {
		return nil, err
	}
	printDiags(io, diags)
	return snap, nil
}

// printDiags writes diagnostics to stderr, one per line.
func printDiags(io *IO, diags diag.List) {
	for _, d := range diags {
		fmt.Fprintln(io.Err, d.String())
	}
}

// outputOptions send a command's main output to stdout or, with -o, to a
// file written atomically.
type outputOptions struct {
	Path string
}

func (o *outputOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.Path, "output", "o", "", "write to `file` instead of standard output (atomically)")
}

func (o *outputOptions) write(io *IO, render func(w io.Writer) error) error {
	if o.Path == "" || o.Path == "-" {
		return render(io.Out)
	}
	return atomicfile.Write(o.Path, 0o644, render)
}

var _ = os.Stdout
