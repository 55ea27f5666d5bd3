package sim_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// clock is a settable time source for rate-limit windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The limiter is Rack::Attack's: a fixed window per client, 429 with
// GitLab's headers and body once the window's quota is used.
func TestRateLimit(t *testing.T) {
	// 30 s into a minute window, so Retry-After is 30.
	clk := &clock{t: time.Unix(1_700_000_010, 0)}
	_, base := start(t, sim.Options{RateLimit: 5, RateLimitPeriod: time.Minute, Now: clk.now})
	c, rec := client(t, base, tokMaint)
	for i := range 5 {
		if _, _, err := c.Version.GetVersion(); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, resp, err := c.Version.GetVersion()
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || resp.StatusCode != 429 {
		t.Fatalf("6th request: %v; want a 429", err)
	}
	wantResponse(t, rec, 429, "Retry later")
	h := resp.Header
	for k, want := range map[string]string{
		"Content-Type": "text/plain", "RateLimit-Name": "throttle_authenticated_api", "RateLimit-Limit": "5",
		"RateLimit-Observed": "6", "RateLimit-Remaining": "0", "RateLimit-Reset": "1700000040",
		"RateLimit-ResetTime": "Tue, 14 Nov 2023 22:14:00 GMT", "Retry-After": "30",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	// Another client has its own quota.
	other, _ := client(t, base, tokDev)
	if _, _, err := other.Version.GetVersion(); err != nil {
		t.Errorf("other client throttled: %v", err)
	}
	// After Retry-After the next window starts.
	clk.add(30 * time.Second)
	if _, _, err := c.Version.GetVersion(); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}

// A per-second limit reports its quota per minute, as GitLab scales it.
// Plain requests: client-go would pace itself on these headers.
func TestRateLimitHeadersAlways(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 250_000_000)}
	s, base := start(t, sim.Options{RateLimit: 3, RateLimitPeriod: time.Second, RateLimitHeadersAlways: true, Now: clk.now})
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", base+"/api/v4/version", nil)
		req.Header.Set("PRIVATE-TOKEN", tokMaint)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := 1; i <= 3; i++ {
		resp := get()
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Limit") != "180" || resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(3-i) || resp.Header.Get("Retry-After") != "" {
			t.Errorf("request %d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}
	if resp := get(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("4th request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if st := s.Stats(); st.RateLimited != 1 || st.Requests != 4 {
		t.Errorf("stats: %+v", st)
	}
}

// outcome sends one request outside client-go (no retries) and names what
// came back.
func outcome(hc *http.Client, url string) string {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("PRIVATE-TOKEN", tokMaint)
	resp, err := hc.Do(req)
	if err != nil {
		return "drop"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

// Injected faults come at the configured rate, evenly across kinds, and
// the same seed gives the same sequence.
func TestFaultInjectionRates(t *testing.T) {
	const n = 1000
	run := func() ([]string, sim.Stats) {
		s, base := start(t, sim.Options{Seed: 42, FailRate: 0.2, SlowDelay: time.Millisecond})
		// Fresh connections: net/http silently retries a GET whose reused
		// keep-alive connection closes before answering, which would hide
		// drops from the count.
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		out := make([]string, n)
		for i := range out {
			out[i] = outcome(hc, base+"/api/v4/version")
		}
		return out, s.Stats()
	}
	seq, st := run()
	counts := map[string]int{}
	for _, o := range seq {
		counts[o]++
	}
	faults := 0
	for _, k := range sim.AllFaults {
		faults += st.Faults[k]
		// Expected n*0.2/6 = 33 each; sd about 5.6.
		if st.Faults[k] < 15 || st.Faults[k] > 52 {
			t.Errorf("fault %s: %d of %d; want about 33", k, st.Faults[k], n)
		}
	}
	// Expected 200; sd about 12.6.
	if faults < 150 || faults > 250 {
		t.Errorf("%d faults in %d requests; want about 200", faults, n)
	}
	// What the client saw matches what the simulator counted; slow
	// answers are still answers.
	for _, k := range []sim.Fault{sim.Fault429, sim.Fault500, sim.Fault502, sim.Fault503, sim.FaultDrop} {
		if counts[string(k)] != st.Faults[k] {
			t.Errorf("client saw %d %s; simulator injected %d", counts[string(k)], k, st.Faults[k])
		}
	}
	if counts["200"] != n-faults+st.Faults[sim.FaultSlow] || st.Requests != n {
		t.Errorf("200s %d, requests %d; want %d and %d", counts["200"], st.Requests, n-faults+st.Faults[sim.FaultSlow], n)
	}
	again, _ := run()
	for i := range seq {
		if seq[i] != again[i] {
			t.Fatalf("request %d: %s then %s with the same seed", i, seq[i], again[i])
		}
	}
}

// The injected answers look like GitLab's edge and Rails.
func TestFaultResponses(t *testing.T) {
	for _, tc := range []struct {
		fault  sim.Fault
		status int
		header string
	}{
		{sim.Fault429, 429, "Retry-After"},
		{sim.Fault500, 500, ""},
		{sim.Fault502, 502, ""},
		{sim.Fault503, 503, "Retry-After"},
	} {
		_, base := start(t, sim.Options{FailRate: 1, Faults: []sim.Fault{tc.fault}})
		c, rec := client(t, base, tokMaint)
		_, resp, err := c.Version.GetVersion()
		if err == nil || resp.StatusCode != tc.status || tc.header != "" && resp.Header.Get(tc.header) == "" {
			t.Errorf("%s: %v, status %d, headers %v", tc.fault, err, resp.StatusCode, resp.Header)
		}
		if tc.fault == sim.Fault500 {
			wantResponse(t, rec, 500, `{"message":"500 Internal Server Error"}`)
		}
	}
}

// A dropped connection reaches client-go as a transport error, not as a
// response.
func TestDroppedConnection(t *testing.T) {
	s, base := start(t, sim.Options{FailRate: 1, Faults: []sim.Fault{sim.FaultDrop}})
	c, _ := client(t, base, tokMaint)
	_, resp, err := c.Projects.GetProject(102, nil)
	if err == nil || resp != nil {
		t.Fatalf("GetProject over a dropped connection = %v, %v", resp, err)
	}
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) {
		t.Errorf("dropped connection became an HTTP error: %v", err)
	}
	if s.Stats().Faults[sim.FaultDrop] != 1 {
		t.Errorf("stats: %+v", s.Stats())
	}
}

func TestLatencyAndSlowFaults(t *testing.T) {
	_, base := start(t, sim.Options{Latency: 40 * time.Millisecond})
	c, _ := client(t, base, tokMaint)
	began := time.Now()
	if _, _, err := c.Version.GetVersion(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 40*time.Millisecond {
		t.Errorf("request took %v; want at least the 40ms latency", d)
	}
	_, base = start(t, sim.Options{FailRate: 1, Faults: []sim.Fault{sim.FaultSlow}, SlowDelay: 80 * time.Millisecond})
	c, _ = client(t, base, tokMaint)
	began = time.Now()
	v, _, err := c.Version.GetVersion()
	if err != nil || v.Version != "18.5.0" {
		t.Fatalf("slow answer: %v, %v", v, err)
	}
	if d := time.Since(began); d < 80*time.Millisecond {
		t.Errorf("slow fault took %v; want at least 80ms", d)
	}
}

// Requests are counted by route, for the benchmark's requests per project.
func TestStatsByRoute(t *testing.T) {
	s, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	for _, p := range []string{"platform/build-scripts", "apps/web"} {
		if _, _, err := c.RepositoryFiles.GetRawFile(p, ".gitlab-ci.yml", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.Projects.GetProject(102, nil); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Requests != 3 || st.ByRoute["GET /api/v4/projects/:id/repository/files/:file_path/raw"] != 2 || st.ByRoute["GET /api/v4/projects/:id"] != 1 {
		t.Errorf("stats = %+v", st)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || len(st.ByRoute) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

// Concurrent writers and readers see a consistent state (run with -race).
func TestConcurrentWrites(t *testing.T) {
	s, base := start(t, sim.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c, _ := client(t, base, tokMaint)
			if _, _, err := c.JobTokenScope.AddProjectToJobScopeAllowList(102, &gitlab.JobTokenInboundAllowOptions{TargetProjectID: ptr(int64(1000 + i))}); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			c, _ := client(t, base, tokMaint)
			var out gqlResponse
			if _, err := c.GraphQL.Do(gitlab.GraphQLQuery{Query: `{ project(fullPath: "platform/build-scripts") { ciJobTokenScope { inboundAllowlistCount } } }`}, &out); err != nil || len(out.Errors) > 0 {
				errs <- fmt.Errorf("read: %v %v", err, out.Errors)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p := findProject(t, s.Export().Projects, "platform/build-scripts")
	if n := len(p.JobTokenScope.Allowlist.Projects); n != 17 {
		t.Errorf("%d entries after 16 concurrent adds; want 17", n)
	}
}
