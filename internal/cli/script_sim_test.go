package cli_test

import (
	"flag"
	"net/http/httptest"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// simCmd is the script command "gitlab-sim [flags] DIR": it serves the
// snapshot directory DIR with the GitLab simulator on 127.0.0.1 until the
// script ends, and sets GITLAB_URL to it.
//
//	-version V     GitLab version to simulate
//	-latency D     added to every request
//	-token T=SPEC  accepted token and roles (see sim.ParseToken); default: open mode
//	-fail RATE     fraction of requests that fault
func simCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("gitlab-sim cannot be negated")
	}
	fs := flag.NewFlagSet("gitlab-sim", flag.ContinueOnError)
	version := fs.String("version", "", "")
	latency := fs.Duration("latency", 0, "")
	tok := fs.String("token", "", "")
	fail := fs.Float64("fail", 0, "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: gitlab-sim [-version V] [-latency D] [-token T=SPEC] [-fail RATE] DIR")
	}
	o := sim.Options{Version: *version, Latency: *latency, FailRate: *fail, Seed: 1, FaultRetryAfter: 10 * time.Millisecond, SlowDelay: 100 * time.Millisecond}
	if *tok != "" {
		t, err := sim.ParseToken(*tok)
		ts.Check(err)
		o.Tokens = []sim.Token{t}
	}
	s, err := sim.Load(ts.MkAbs(fs.Arg(0)), o)
	ts.Check(err)
	srv := httptest.NewServer(s)
	ts.Defer(srv.Close)
	ts.Setenv("GITLAB_URL", srv.URL)
}
