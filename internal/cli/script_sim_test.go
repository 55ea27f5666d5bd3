package cli_test

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"sync"
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
//	-rate-limit L  requests per client, as N/s, N/m or N/<duration>
func simCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("gitlab-sim cannot be negated")
	}
	fs := flag.NewFlagSet("gitlab-sim", flag.ContinueOnError)
	version := fs.String("version", "", "")
	latency := fs.Duration("latency", 0, "")
	tok := fs.String("token", "", "")
	fail := fs.Float64("fail", 0, "")
	limit := fs.String("rate-limit", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: gitlab-sim [-version V] [-latency D] [-token T=SPEC] [-fail RATE] [-rate-limit L] DIR")
	}
	o := sim.Options{Version: *version, Latency: *latency, FailRate: *fail, Seed: 1, FaultRetryAfter: 10 * time.Millisecond, SlowDelay: 100 * time.Millisecond}
	if *limit != "" {
		n, per, err := sim.ParseRateLimit(*limit)
		ts.Check(err)
		o.RateLimit, o.RateLimitPeriod = n, per
	}
	if *tok != "" {
		t, err := sim.ParseToken(*tok)
		ts.Check(err)
		o.Tokens = []sim.Token{t}
	}
	s, err := sim.Load(ts.MkAbs(fs.Arg(0)), o)
	ts.Check(err)
	srv := httptest.NewServer(s)
	ts.Defer(srv.Close)
	sims.Store(ts, s)
	ts.Defer(func() { sims.Delete(ts) })
	ts.Setenv("GITLAB_URL", srv.URL)
}

// sims is the last simulator each script started, for sim-export.
var sims sync.Map // *testscript.TestScript → *sim.Server

// simExportCmd is the script command "sim-export FILE": it writes the
// org of the script's last simulator as it is now (sim.Server.Export,
// JSON), so that scripts can compare GitLab's state before and after.
func simExportCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sim-export FILE")
	}
	v, ok := sims.Load(ts)
	if !ok {
		ts.Fatalf("sim-export: no gitlab-sim running")
	}
	b, err := json.MarshalIndent(v.(*sim.Server).Export(), "", " ")
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), append(b, '\n'), 0o644))
}
