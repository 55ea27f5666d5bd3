// Command tokenscope locks down CI_JOB_TOKEN: it discovers cross-project
// job-token edges, plans least-privilege inbound allowlists and helps roll
// them out. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokenscope/tokenscope/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs the command line until it ends or the first SIGINT (Ctrl-C)
// or SIGTERM cancels its context: every command stops then, removes what
// it was writing and says "interrupted" once (cli.Main). The first signal
// also restores the default handling, so that a second one ends the
// process at once if the first is not enough.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return cli.Main(ctx, args, cli.System())
}
