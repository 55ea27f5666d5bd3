package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/redact"
)

type snapshotOptions struct {
	io     *IO
	ctx    context.Context
	live   liveOptions
	Output string
}

func newSnapshotCmd(io *IO, runF func(*snapshotOptions) error) *cobra.Command {
	opts := &snapshotOptions{io: io}
	cmd := &cobra.Command{
		Use:   "snapshot --gitlab URL --group G... -o DIR",
		Short: "Read an org from GitLab into a snapshot directory (read-only on GitLab)",
		Long: `Snapshot reads the groups' projects (subgroups included, archived ones only with
--include-archived), their job token settings, allowlists with fine-grained
policies and authentication logs, and the repository files discovery reads
(CI configuration and what it includes, scripts jobs run, Dockerfiles,
package-manager configuration), and writes them as a snapshot directory:
inventory.yaml plus one folder per project. Every offline command reads it, so
scans can be repeated and diffed without GitLab.

The token comes from GITLAB_TOKEN (read_api; Maintainer on a project to read its
job token settings — projects without it are listed with a warning). The URL
comes from --gitlab or GITLAB_URL. DIR is written atomically: an interrupted run
leaves nothing, or the previous snapshot, behind. Secrets found in fetched files
are masked.`,
		Example: `  GITLAB_TOKEN=... tokenscope snapshot --gitlab https://gitlab.example.com --group platform --group apps -o snap
  tokenscope scan snap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if opts.Output == "" {
				return usageErrorf("-o DIR is required: the snapshot directory to write")
			}
			if len(opts.live.Groups) == 0 {
				return &UsageError{Err: errNoGroup}
			}
			if runF != nil {
				return runF(opts)
			}
			return snapshotRun(opts)
		},
	}
	opts.live.addFlags(cmd)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "snapshot `directory` to write (replaced atomically)")
	return cmd
}

func snapshotRun(opts *snapshotOptions) error {
	res, err := opts.live.snapshot(opts.ctx, opts.io, opts.Output)
	if err != nil {
		return err
	}
	files := 0
	for _, fs := range res.Files {
		files += len(fs)
	}
	fmt.Fprintf(opts.io.Err, "wrote %s: %d projects, %d files, %d GitLab requests\n", opts.Output, len(res.Inventory.Projects), files, res.Requests)
	return nil
}

// writeSnapshot writes res as the snapshot directory dir: built in a
// temporary folder beside dir, then renamed over it, so that readers see
// the old snapshot or the complete new one. A folder that is neither empty
// nor a snapshot is never replaced.
func writeSnapshot(ctx context.Context, dir string, res *gitlab.Result) (err error) {
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fillSnapshot(ctx, tmp, res); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	return swapDir(tmp, dir)
}

// replaceable refuses to replace a folder that holds something other than
// a snapshot: -o pointed at the wrong place must not delete work.
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, inventory.FileName)); err != nil {
		return fmt.Errorf("write snapshot %s: the folder exists and holds no %s; refusing to replace it (choose another -o, or empty it)", dir, inventory.FileName)
	}
	return nil
}

// swapDir renames tmp to dir, moving an existing dir aside first and
// removing it after.
func swapDir(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("write snapshot %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

func fillSnapshot(ctx context.Context, tmp string, res *gitlab.Result) error {
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	data, err := res.Inventory.Marshal()
	if err != nil {
		return err
	}
	if err := root.WriteFile(inventory.FileName, data, 0o644); err != nil {
		return err
	}
	projects := slices.Sorted(func(y func(string) bool) {
		for p := range res.Files {
			if !y(p) {
				return
			}
		}
	})
	for _, p := range projects {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !safeRel(p) {
			return fmt.Errorf("project path %q cannot be a folder of the snapshot", p)
		}
		for name, content := range res.Files[p] {
			if !safeRel(name) {
				return fmt.Errorf("%s: file path %q leaves the project folder", p, name)
			}
			full := path.Join(p, name)
			if err := root.MkdirAll(path.Dir(full), 0o755); err != nil {
				return err
			}
			// Repositories sometimes commit secrets (.npmrc tokens, URLs with
			// passwords); the snapshot must not spread them. Masking keeps
			// line numbers and variable references.
			if err := root.WriteFile(full, []byte(redact.String(string(content))), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// safeRel reports whether p is a clean relative slash path inside its base.
func safeRel(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != "." && !strings.HasPrefix(p, "../") && p != ".." && !strings.Contains(p, "\\")
}
