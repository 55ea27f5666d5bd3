package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/live"
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
leaves nothing, or the previous snapshot, behind.

Secrets found in fetched files are replaced by "tokenscope-masked" before they
are stored, keeping each file's syntax, so a scan of the snapshot equals a scan
of the repositories: GitLab and other forge tokens (glpat-, glptt-, glcbt-,
gldt-, ghp_... keep their prefix), npm_ tokens, JWTs, passwords in URLs
(user:PASSWORD@), PRIVATE-TOKEN/JOB-TOKEN/DEPLOY-TOKEN and Authorization
header values, token/private_token/access_token/job_token/password
parameters and assignments, .npmrc _auth/_password/_authToken, .netrc
passwords, Maven <password>/<passphrase>, NuGet ClearTextPassword, Docker
config "auth"/"identitytoken", --password and login -p values, and the
password of -u/--user/--creds user:PASSWORD. Variable references ($X, ${X})
are kept: they are what discovery follows.`,
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
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "snapshot `directory` to write (replaced atomically, and only if empty or a snapshot it wrote)")
	addQuietFlag(cmd, &opts.live.Quiet)
	addLimitFlag(cmd, &opts.live.Limits)
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

// writeSnapshot writes res as the snapshot directory dir (atomically:
// inventory.Write), its files' secrets masked.
func writeSnapshot(ctx context.Context, dir string, res *live.Result, lim limits.Values) error {
	// Repositories sometimes commit secrets (.npmrc tokens, URLs with
	// passwords); the snapshot must not spread them. Masking keeps line
	// numbers and variable references.
	files := make(map[string]map[string][]byte, len(res.Files))
	for p, fs := range res.Files {
		files[p] = make(map[string][]byte, len(fs))
		for name, content := range fs {
			files[p][name] = []byte(redact.File(string(content)))
		}
	}
	// Never more than the commands reading it accept under the same
	// --limit: snapshot does not write what scan refuses.
	err := inventory.WriteWith(ctx, dir, res.Inventory, files, inventory.WriteOptions{MaxInventorySize: lim.Get(limits.InventorySize)})
	if ns := (*inventory.NotSnapshotError)(nil); errors.As(err, &ns) {
		return fmt.Errorf("%w (choose another -o, or remove it yourself)", err)
	}
	return err
}
