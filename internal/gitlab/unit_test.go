package gitlab

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{"18.5.1-ee": {18, 5}, "17.6.0-pre": {17, 6}, "16.11": {16, 11}, " 19.0.0 ": {19, 0}} {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "18", "x.y", "18.x.1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
	if !(Version{16, 11}).AtLeast(16, 6) || (Version{16, 5}).AtLeast(16, 6) || (Version{}).AtLeast(1, 0) || !(Version{17, 0}).AtLeast(16, 6) {
		t.Error("AtLeast wrong")
	}
}

func TestServerWait(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	resp := func(status int, h ...string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		for i := 0; i < len(h); i += 2 {
			r.Header.Set(h[i], h[i+1])
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Response
		want time.Duration
		ok   bool
	}{
		{"retry-after seconds", resp(429, "Retry-After", "7"), 7 * time.Second, true},
		{"retry-after on 503", resp(503, "Retry-After", "2"), 2 * time.Second, true},
		{"retry-after date", resp(429, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second, true},
		{"ratelimit-reset on 429", resp(429, "RateLimit-Reset", fmt.Sprint(now.Add(30*time.Second).Unix())), 30 * time.Second, true},
		{"ratelimit-reset ignored on 500", resp(500, "RateLimit-Reset", fmt.Sprint(now.Add(30*time.Second).Unix())), 0, false},
		{"capped", resp(429, "Retry-After", "86400"), maxServerWait, true},
		{"nothing", resp(502), 0, false},
	} {
		got, ok := serverWait(tc.r, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	// Without a server hint the wait grows with the attempt and stays in bounds.
	for attempt := range 12 {
		d := backoff(100*time.Millisecond, 2*time.Second, attempt, nil)
		if d < 100*time.Millisecond || d > 2*time.Second {
			t.Errorf("attempt %d: backoff %v out of [100ms, 2s]", attempt, d)
		}
	}
}

func TestPacer(t *testing.T) {
	p := &pacer{reserve: 4}
	now := time.Now()
	h := http.Header{}
	h.Set("RateLimit-Remaining", "10")
	h.Set("RateLimit-Reset", fmt.Sprint(now.Add(time.Hour).Unix()))
	p.observe(h, now)
	if !p.until.IsZero() {
		t.Error("paused with plenty of requests left")
	}
	h.Set("RateLimit-Remaining", "3")
	p.observe(h, now)
	if d := p.until.Sub(now); d < maxServerWait-time.Second || d > maxServerWait {
		t.Errorf("pause %v; want capped at %v", d, maxServerWait)
	}
}

// Batches are as large as GitLab's limits allow and never larger: a batch
// of one more would exceed the complexity limit or the 50-path argument
// limit, and the chosen size is not trivially small.
func TestBatchSizesFitGitLabLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars func(n int) map[string]any
		min  int
	}{
		{qJobTokenSettings, func(n int) map[string]any {
			return map[string]any{"fullPaths": anyStrings(make([]string, n)), "first": n, "authLogFirst": authLogFirst}
		}, 4},
		{qJobTokenSettings179, func(n int) map[string]any {
			return map[string]any{"fullPaths": anyStrings(make([]string, n)), "first": n, "authLogFirst": authLogFirst}
		}, 4},
		{qAuthLogs, func(n int) map[string]any {
			return map[string]any{"fullPaths": anyStrings(make([]string, n)), "first": n, "authLogFirst": authLogFirst}
		}, 4},
		{qTreesAndFiles, func(n int) map[string]any {
			return map[string]any{"fullPaths": anyStrings(make([]string, n)), "first": n, "paths": anyStrings([]string{".gitlab-ci.yml"}), "blobsFirst": 1}
		}, 8},
	} {
		q, err := getQuery(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		n := fitBatch(q, schema.MaxFullPaths, tc.vars)
		c, _ := schema.Complexity(q.doc, "", tc.vars(n))
		next, _ := schema.Complexity(q.doc, "", tc.vars(n+1))
		if n < tc.min || c > schema.MaxComplexityAuthenticated || (n < schema.MaxFullPaths && next <= schema.MaxComplexityAuthenticated) {
			t.Errorf("%s: batch %d (complexity %d, next %d); want the largest batch within %d, at least %d", tc.name, n, c, next, schema.MaxComplexityAuthenticated, tc.min)
		}
		t.Logf("%s: %d projects per request, complexity %d", tc.name, n, c)
	}
}

func TestPackFiles(t *testing.T) {
	q, err := getQuery(qFiles)
	if err != nil {
		t.Fatal(err)
	}
	vars := func(projects, paths []string) map[string]any {
		return map[string]any{"fullPaths": anyStrings(projects), "first": len(projects), "paths": anyStrings(paths), "blobsFirst": len(paths)}
	}
	want := map[string][]string{}
	for i := range 60 {
		want[fmt.Sprintf("g/p%02d", i)] = []string{"Dockerfile", ".npmrc"}
	}
	want["g/big"] = make([]string, 150)
	for i := range want["g/big"] {
		want["g/big"][i] = fmt.Sprintf("ci/s%03d.sh", i)
	}
	want["g/odd"] = []string{"ci/deploy.sh"}
	reqs := packFiles(q, want, vars)
	covered := map[string]int{}
	for _, r := range reqs {
		c, _ := schema.Complexity(q.doc, "", vars(r.projects, r.paths))
		if c > schema.MaxComplexityAuthenticated || len(r.projects) > schema.MaxFullPaths || len(r.paths) > schema.MaxPageSize {
			t.Errorf("request over GitLab's limits: %d projects, %d paths, complexity %d", len(r.projects), len(r.paths), c)
		}
		for _, p := range r.projects {
			for _, n := range want[p] {
				if slices.Contains(r.paths, n) {
					covered[p+" "+n]++
				}
			}
		}
	}
	total := 0
	for p, names := range want {
		for _, n := range names {
			total++
			if covered[p+" "+n] == 0 {
				t.Errorf("%s %s never requested", p, n)
			}
		}
	}
	// 62 projects and 273 files: packing must beat one request per project.
	if len(reqs) > 12 {
		t.Errorf("%d requests for %d files of %d projects; packing is not working", len(reqs), total, len(want))
	}
	t.Logf("%d requests for %d files of %d projects", len(reqs), total, len(want))
}

func TestRedact(t *testing.T) {
	c := &Client{token: "s3cr3t-t0ken-value"}
	err := c.apiError("read x", errors.New(`GET https://h/api/v4/x?private_token=s3cr3t-t0ken-value: 401 {message: s3cr3t-t0ken-value glpat-abcdefghijklmnop}`))
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "glpat-abc") {
		t.Errorf("token in error: %v", err)
	}
}
