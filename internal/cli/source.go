package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/atomicfile"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/redact"
)

// sourceOptions are the flags every command that reads an org shares:
// SOURCE is a snapshot directory, or --gitlab URL --group G... for live
// GitLab (read into a temporary snapshot, then used like one).
type sourceOptions struct {
	Dir       string
	ServerURL string
	// Registry is CI_REGISTRY (host[:port]) when the snapshot's inventory
	// does not name it.
	Registry string
	live     liveOptions
	tmpDir   string // live snapshot, removed when the command ends
	// Quiet drops warnings about the snapshot; errors are always printed.
	Quiet bool
	// AuthLogCSV are PROJECT=FILE pairs: GitLab's authentication-log CSV
	// exports, merged into the projects' authentication logs.
	AuthLogCSV []string
	// Limits are the --limit values: the snapshot's read, the auth-log
	// exports, and the scan of the command (discovery.Options.Limits).
	Limits limits.Values
}

// liveArg stands for SOURCE when the org is read live; commands copy
// args[0] into Dir, and load replaces it.
const liveArg = "\x00live"

// addFlags adds the source flags. It changes nothing else of cmd: the
// command states SOURCE's argument check with args, takes SOURCE with
// from, and says so in its help with liveHelp, so that the order of the
// calls does not matter.
func (o *sourceOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.ServerURL, "server-url", "", "GitLab `URL` jobs see as CI_SERVER_URL, when the snapshot has no inventory.yaml (default "+inventory.DefaultServerURL+")")
	cmd.Flags().StringVar(&o.Registry, "registry", "", "container registry `HOST[:PORT]` jobs see as CI_REGISTRY, when the snapshot's inventory.yaml names none (default: registry.gitlab.com on gitlab.com, otherwise unknown: registry references stay unresolved)")
	cmd.Flags().StringArrayVar(&o.AuthLogCSV, "auth-log-csv", nil, "`PROJECT=FILE`: the authentication log of PROJECT as its Download CSV exports it (Settings > CI/CD > Job token permissions), merged as auth-log uses; repeatable")
	o.live.addFlags(cmd)
	addLimitFlag(cmd, &o.Limits)
}

// validRegistry checks a --registry value: a host with an optional port,
// as CI_REGISTRY holds it, not a URL.
func validRegistry(r string) error {
	host, port, hasPort := strings.Cut(r, ":")
	ok := host != "" && !strings.ContainsAny(r, "/ \t@?#")
	if hasPort {
		n, err := strconv.Atoi(port)
		ok = ok && err == nil && n > 0 && n < 65536
	}
	if !ok {
		return usageErrorf("--registry %q: give the registry as CI_REGISTRY holds it, host[:port] (registry.example.com or gitlab.example.com:5050), not a URL", r)
	}
	return nil
}

// args checks the positional arguments: SOURCE by check, or none with
// --gitlab/--group (not both), so that every command taking SOURCE
// accepts the live flags without code of its own.
func (o *sourceOptions) args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if !o.live.enabled() {
			return check(c, a)
		}
		if len(a) > 0 {
			return usageErrorf("give either SOURCE (%s) or --gitlab/--group, not both", a[0])
		}
		return nil
	}
}

// from takes SOURCE from the arguments args let through; with the live
// flags it stands for the org read from GitLab, which load reads.
func (o *sourceOptions) from(args []string) {
	if o.live.enabled() {
		o.Dir = liveArg
		return
	}
	o.Dir = args[0]
}

// liveHelp is long, a command's help, followed by how to read the org live
// instead of SOURCE.
func liveHelp(long string) string {
	return long + "\n\nSOURCE may be replaced by --gitlab URL --group G... to read live GitLab (token\nfrom GITLAB_TOKEN, URL also from GITLAB_URL); the result is the same as on a\nsnapshot written by 'tokenscope snapshot'."
}

// load reads the snapshot, or reads GitLab into a temporary one.
// Diagnostics about the snapshot go to stderr.
func (o *sourceOptions) load(ctx context.Context, io *IO) (*inventory.Snapshot, error) {
	if o.Registry != "" {
		if err := validRegistry(o.Registry); err != nil {
			return nil, err
		}
	}
	if o.live.enabled() || o.Dir == liveArg {
		tmp, err := os.MkdirTemp("", "tokenscope-live-*")
		if err != nil {
			return nil, fmt.Errorf("temporary snapshot: %w", err)
		}
		o.tmpDir = tmp
		o.live.Quiet = o.Quiet
		o.live.Limits = o.Limits
		dir := tmp + string(os.PathSeparator) + "snapshot"
		// The live read refuses a result without a project itself.
		if _, err := o.live.snapshot(ctx, io, dir); err != nil {
			return nil, err
		}
		o.Dir = dir
	}
	snap, diags, err := loadSnapshot(ctx, o.Dir, inventory.LoadOptions{ServerURL: o.ServerURL, Registry: o.Registry,
		MaxFileSize: o.Limits.Get(limits.FileSize), MaxInventorySize: o.Limits.Get(limits.InventorySize)})
	if err != nil {
		return nil, err
	}
	if err := o.mergeAuthLogCSV(snap.Index); err != nil {
		snap.Close()
		return nil, err
	}
	if o.tmpDir != "" {
		// Commands quote Dir as the source (trust drafts, reports).
		o.Dir = o.live.url(io)
	}
	if len(snap.Inventory.Projects) == 0 {
		// Nothing to analyse is a mistake in the source (a typo, the parent
		// of the snapshot), not an empty result: exit 1, not 0.
		snap.Close()
		return nil, errNoProject(o.Dir)
	}
	printDiags(io, diags, o.Quiet)
	return snap, nil
}

// mergeAuthLogCSV reads each --auth-log-csv export into its project's
// authentication log, for users whose token cannot read the log through
// GraphQL: the rows become auth-log uses like the ones snapshot reads.
func (o *sourceOptions) mergeAuthLogCSV(ix *inventory.Index) error {
	for _, pair := range o.AuthLogCSV {
		project, file, ok := strings.Cut(pair, "=")
		if !ok || project == "" || file == "" {
			return usageErrorf("--auth-log-csv %q: give PROJECT=FILE, e.g. libs/jslib=job-token-authorizations.csv", pair)
		}
		p := ix.Project(project)
		if p == nil {
			return fmt.Errorf("--auth-log-csv %s: no project %s in the snapshot (the export is of the project whose allowlist it logs)", pair, project)
		}
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("--auth-log-csv %s: %w", pair, err)
		}
		rows, err := inventory.ReadAuthLogCSVWith(f, file, inventory.AuthLogOptions{MaxBytes: o.Limits.Get(limits.AuthLogBytes), MaxRows: o.Limits.Int(limits.AuthLogRows)})
		f.Close()
		if err != nil {
			return fmt.Errorf("--auth-log-csv: %w", err)
		}
		inventory.MergeAuthLog(p, rows)
	}
	return nil
}

// loadSnapshot is inventory.Load that gives up when ctx is cancelled:
// loading lists every project folder, seconds for a large org, and Ctrl-C
// must stop a command within a second. The abandoned load finishes in the
// background and its snapshot is closed.
func loadSnapshot(ctx context.Context, dir string, opts inventory.LoadOptions) (*inventory.Snapshot, diag.List, error) {
	type loaded struct {
		snap  *inventory.Snapshot
		diags diag.List
		err   error
	}
	done := make(chan loaded, 1)
	go func() {
		s, d, err := inventory.Load(dir, opts)
		done <- loaded{s, d, err}
	}()
	select {
	case r := <-done:
		return r.snap, r.diags, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.snap != nil {
				r.snap.Close()
			}
		}()
		return nil, nil, ctx.Err()
	}
}

// errNoProject says that source holds no project, and what a snapshot
// holds (docs/design.md §4).
func errNoProject(source string) error {
	return fmt.Errorf("%s: no project found: a snapshot holds one folder per project, named by its full path (group/subgroup/project), with its repository files (a .gitlab-ci.yml or .git makes a folder a project), and an optional %s listing the projects; a folder of clones is one, and 'tokenscope snapshot' writes one from GitLab", source, inventory.FileName)
}

// cleanup removes a live snapshot.
func (o *sourceOptions) cleanup() {
	if o.tmpDir != "" {
		os.RemoveAll(o.tmpDir)
		o.tmpDir = ""
	}
}

// printDiags writes diagnostics to stderr, one per line; quiet (-q) drops
// the warnings, never the errors.
func printDiags(io *IO, diags diag.List, quiet bool) {
	for _, d := range diags {
		if quiet && d.Severity != diag.Error {
			continue
		}
		fmt.Fprintln(io.Err, d.String())
	}
}

// addQuietFlag adds -q to a command that prints diagnostics.
func addQuietFlag(cmd *cobra.Command, quiet *bool) {
	cmd.Flags().BoolVarP(quiet, "quiet", "q", false, "do not print warnings on standard error (errors are always printed)")
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
	// A file gets the redaction stdout gets (Main masks the streams).
	err := atomicfile.Write(o.Path, 0o644, redact.Masking(render))
	// atomicfile refuses what it must not replace; say so in terms of the
	// flag the user typed.
	switch {
	case errors.Is(err, atomicfile.ErrNotRegular):
		return fmt.Errorf("-o %s: not a regular file; give a file path", o.Path)
	case errors.Is(err, atomicfile.ErrReadOnly):
		return fmt.Errorf("-o %s: the file is read-only; make it writable or give another path", o.Path)
	}
	return err
}

var errNoGroup = errors.New("--group is required with --gitlab: name the groups to read (subgroups are included)")

// formatOption is a command's --format flag over the formats its renderer
// knows.
type formatOption struct {
	Value string
	valid []string
}

func (o *formatOption) addFlag(cmd *cobra.Command, valid []string) {
	o.valid = valid
	cmd.Flags().StringVarP(&o.Value, "format", "f", valid[0], "output `format`: "+strings.Join(valid, ", "))
}

// check is a usage error for a format the command does not have.
func (o *formatOption) check() error {
	if !slices.Contains(o.valid, o.Value) {
		return usageErrorf("unknown --format %q (valid: %s)", o.Value, strings.Join(o.valid, ", "))
	}
	return nil
}

// gitlabVersionFlag parses a command's --gitlab-version; the zero Version
// (use the inventory's) when it is empty.
func gitlabVersionFlag(s string) (capability.Version, error) {
	if s == "" {
		return capability.Version{}, nil
	}
	v, err := capability.ParseVersion(s)
	if err != nil {
		return v, &UsageError{Err: fmt.Errorf("--gitlab-version: %w", err)}
	}
	return v, nil
}
