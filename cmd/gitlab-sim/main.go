// Command gitlab-sim serves a snapshot directory as a simulated GitLab
// (REST /api/v4, GraphQL /api/graphql, and for CI job tokens made with
// POST /-/sim/jobs also git smart HTTP and the registry's /jwt/auth) for
// demos and tests of tokenscope's live mode:
//
//	gitlab-sim --org examples/acme --addr 127.0.0.1:8080 \
//	    --token "$TOKEN=maintainer" --latency 20ms --fail-rate 0.05
//
// It prints the URL to use as --gitlab and runs until interrupted. Tokens
// are never printed; they can also come from GITLAB_SIM_TOKENS
// (whitespace-separated TOKEN=SPEC items) to keep them off the command
// line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gitlab-sim:", err)
		}
		os.Exit(2)
	}
}

// tokenFlags collects repeated --token values.
type tokenFlags []sim.Token

func (t *tokenFlags) String() string { return fmt.Sprintf("%d token(s)", len(*t)) }

func (t *tokenFlags) Set(v string) error {
	tok, err := sim.ParseToken(v)
	if err != nil {
		return err
	}
	*t = append(*t, tok)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gitlab-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts      sim.Options
		tokens    tokenFlags
		org       = fs.String("org", "", "snapshot `DIR` to serve (required)")
		addr      = fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (port 0 picks a free one)")
		rateLimit = fs.String("rate-limit", "", "requests per client, as `N/s`, N/m or N/<duration> (Rack::Attack style); empty for none")
		faults    = fs.String("faults", "", "fault `KINDS` to inject, comma-separated: 429,500,502,503,slow,drop (default all)")
		enforce   = fs.Bool("instance-enforces-allowlist", false, "the admin setting that enforces every project's allowlist; unset: the snapshot's value, else on from GitLab 18.0 as GitLab ships it (=false turns it off)")
	)
	fs.StringVar(&opts.Version, "version", "", "GitLab `VERSION` to simulate (default: the inventory's, else "+sim.DefaultVersion+")")
	fs.DurationVar(&opts.Latency, "latency", 0, "`DURATION` added to every request")
	fs.Float64Var(&opts.FailRate, "fail-rate", 0, "`FRACTION` (0..1) of requests that get a fault")
	fs.Uint64Var(&opts.Seed, "seed", 1, "`SEED` of the fault generator")
	fs.DurationVar(&opts.SlowDelay, "slow-delay", 2*time.Second, "`DURATION` a slow fault holds a response back")
	fs.Var(&tokens, "token", "accepted token as `TOKEN=ROLE[,PATH:ROLE...][,admin]` (repeatable); none: any token is an admin")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gitlab-sim --org DIR [--addr 127.0.0.1:PORT] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *org == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--org DIR is required and there are no positional arguments")
	}
	for item := range strings.FieldsSeq(os.Getenv("GITLAB_SIM_TOKENS")) {
		if err := tokens.Set(item); err != nil {
			return fmt.Errorf("GITLAB_SIM_TOKENS: %w", err)
		}
	}
	opts.Tokens = tokens
	if *rateLimit != "" {
		n, per, err := sim.ParseRateLimit(*rateLimit)
		if err != nil {
			return err
		}
		opts.RateLimit, opts.RateLimitPeriod = n, per
	}
	if *faults != "" {
		kinds, err := sim.ParseFaults(*faults)
		if err != nil {
			return err
		}
		opts.Faults = kinds
	}
	// Only an explicit flag overrides: 18.0 turns the setting on by
	// default, so =false must be able to turn it off.
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "instance-enforces-allowlist" {
			opts.InstanceEnforcesAllowlist = enforce
		}
	})
	s, err := sim.Load(*org, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	rn, err := s.Listen(*addr)
	if err != nil {
		return err
	}
	mode := fmt.Sprintf("%d token(s)", len(tokens))
	if len(tokens) == 0 {
		mode = "open mode: any token is an administrator"
	}
	fmt.Fprintf(stdout, "gitlab-sim: serving %s as GitLab %s (%s)\n%s\n", *org, s.Version(), mode, rn.URL)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return rn.Shutdown(shutdown)
}
