package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/live"
)

// liveOptions are the flags that read an org from GitLab. The token only
// ever comes from GITLAB_TOKEN: a flag value would land in shell history
// and process listings.
type liveOptions struct {
	URL             string
	Groups          []string
	CAFile          string
	IncludeArchived bool
	Concurrency     int
	Timeout         time.Duration
	Quiet           bool // -q: the read's warnings are not printed
	// Limits (--limit): the inventory written is bounded as the commands
	// reading the snapshot bound it.
	Limits limits.Values
}

func (o *liveOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "gitlab", "", "read live from the GitLab at `URL` (default $GITLAB_URL when --group is given); token from $GITLAB_TOKEN")
	f.StringArrayVar(&o.Groups, "group", nil, "`group` to read from GitLab, subgroups included (repeatable)")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM `file` of extra certificate authorities to trust for GitLab")
	f.BoolVar(&o.IncludeArchived, "include-archived", false, "also read archived projects")
	f.IntVar(&o.Concurrency, "concurrency", 8, "GitLab requests in flight at most")
	f.DurationVar(&o.Timeout, "request-timeout", 60*time.Second, "time limit of one GitLab request (retried on timeout)")
}

func (o *liveOptions) enabled() bool { return o.URL != "" || len(o.Groups) > 0 }

func (o *liveOptions) url(io *IO) string {
	if o.URL != "" {
		return o.URL
	}
	return io.Getenv("GITLAB_URL")
}

// client builds the GitLab client from the flags and the environment.
func (o *liveOptions) client(io *IO) (*gitlab.Client, error) {
	if len(o.Groups) == 0 {
		return nil, &UsageError{Err: errNoGroup}
	}
	return o.newClient(io)
}

// newClient builds the client without asking for groups (diagnose --job
// reads one job's log).
func (o *liveOptions) newClient(io *IO) (*gitlab.Client, error) {
	url := o.url(io)
	if url == "" {
		return nil, usageErrorf("no GitLab URL: pass --gitlab URL or set GITLAB_URL")
	}
	if o.Concurrency < 1 {
		return nil, usageErrorf("--concurrency must be at least 1")
	}
	c, err := gitlab.New(gitlab.Options{
		URL:         url,
		Token:       io.Getenv("GITLAB_TOKEN"),
		CAFile:      o.CAFile,
		Concurrency: o.Concurrency,
		Timeout:     o.Timeout,
	})
	return c, clientError(err)
}

// clientError words the client's option errors with the flags that set
// the options.
func clientError(err error) error {
	var ca *gitlab.CAFileError
	switch {
	case errors.Is(err, gitlab.ErrNoURL):
		return usageErrorf("no GitLab URL: pass --gitlab URL or set GITLAB_URL")
	case errors.As(err, &ca) && errors.Is(ca.Err, gitlab.ErrNoPEM):
		return fmt.Errorf("--ca-file %s: no PEM certificate found", ca.File)
	case errors.As(err, &ca):
		return fmt.Errorf("read --ca-file: %w", ca.Err)
	}
	return err
}

// snapshot reads GitLab and writes the snapshot directory dir atomically.
func (o *liveOptions) snapshot(ctx context.Context, io *IO, dir string) (*live.Result, error) {
	c, err := o.client(io)
	if err != nil {
		return nil, err
	}
	bar := newProgressBar(io)
	res, err := live.Snapshot(ctx, c, live.Options{
		Groups:          o.Groups,
		IncludeArchived: o.IncludeArchived,
		Progress:        bar.update,
		Limits:          o.Limits,
		AddGroupHint:    "add its group with --group to read it",
	})
	bar.done()
	if errors.Is(err, live.ErrNoGroup) {
		return nil, &UsageError{Err: errNoGroup}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", strings.Join(o.Groups, ", "), err)
	}
	printDiags(io, res.Diags, o.Quiet)
	if len(res.Inventory.Projects) == 0 {
		// A snapshot without a project is no source (docs/design.md §4).
		hint := "check the group paths (subgroups are read too)"
		if !o.IncludeArchived {
			hint += "; archived projects are read only with --include-archived"
		}
		return nil, fmt.Errorf("%s: no project found in --group %s (%s); nothing written", o.url(io), strings.Join(o.Groups, ", "), hint)
	}
	if err := writeSnapshot(ctx, dir, res, o.Limits); err != nil {
		return nil, err
	}
	return res, nil
}

// progressBar draws one line on stderr when it is a terminal, and nothing
// otherwise (logs and pipes stay clean).
type progressBar struct {
	io   *IO
	last time.Time
	drew bool
}

func newProgressBar(io *IO) *progressBar { return &progressBar{io: io} }

func (b *progressBar) update(p live.Progress) {
	if !b.io.ErrTTY {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && p.Done != p.Total {
		return
	}
	b.last = now
	line := "reading " + p.Stage
	if p.Total > 0 {
		const width = 30
		filled := width * min(p.Done, p.Total) / p.Total
		line = fmt.Sprintf("%-22s [%s%s] %d/%d", line, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.Done, p.Total)
	}
	fmt.Fprintf(b.io.Err, "\r\033[K%s", line)
	b.drew = true
}

func (b *progressBar) done() {
	if b.drew {
		fmt.Fprint(b.io.Err, "\r\033[K")
	}
}
