// Command tokenscope locks down CI_JOB_TOKEN: it discovers cross-project
// job-token edges, plans least-privilege inbound allowlists and helps roll
// them out. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokenscope/tokenscope/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// grace is how long a command may take to stop after the first signal
// before run gives up on it: commands stop at once when their context is
// cancelled, but one blocked in a read that no context reaches (a log on
// standard input that never ends) would not.
const grace = 800 * time.Millisecond

// run runs the command line until it ends or the first SIGINT (Ctrl-C)
// or SIGTERM cancels its context: every command stops then, removes what
// it was writing and says "interrupted" once (cli.Main). The first signal
// also restores the default handling, so that a second one ends the
// process at once.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := make(chan int, 1)
	go func() { code <- cli.Main(ctx, args, cli.System()) }()
	select {
	case c := <-code:
		return c
	case <-ctx.Done():
		stop()
	}
	select {
	case c := <-code:
		return c
	case <-time.After(grace):
		fmt.Fprintln(os.Stderr, "tokenscope: interrupted")
		return cli.ExitError
	}
}
