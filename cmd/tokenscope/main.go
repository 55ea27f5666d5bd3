// Command tokenscope locks down CI_JOB_TOKEN: it discovers cross-project
// job-token edges, plans least-privilege inbound allowlists and helps roll
// them out. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/tokenscope/tokenscope/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
