package gitlab_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
)

// jobsServer answers GET /projects/:id/jobs with n failed jobs, one hour
// apart from now backwards, in pages, and counts the pages asked for; the
// trace route sends size bytes and counts what was written.
func jobsServer(t *testing.T, n int, size int64) (*gitlab.Client, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	var pages, written atomic.Int64
	now := time.Now().UTC()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.EscapedPath(), "missing"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404 Not Found"}`)
		case strings.HasSuffix(r.URL.Path, "/trace"):
			w.Header().Set("Content-Type", "text/plain")
			line := []byte(strings.Repeat("x", 1023) + "\n")
			for sent := int64(0); sent < size; sent += int64(len(line)) {
				k, err := w.Write(line)
				written.Add(int64(k))
				if err != nil {
					return
				}
			}
			w.Write([]byte("remote: Authentication by CI/CD job token not allowed from a to b.\n"))
		case strings.HasSuffix(r.URL.Path, "/jobs"):
			if got := r.URL.Query()["scope[]"]; len(got) != 1 || got[0] != "failed" {
				t.Errorf("scope = %v", got)
			}
			pages.Add(1)
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
			var items []string
			for i := (page - 1) * per; i < min(page*per, n); i++ {
				items = append(items, fmt.Sprintf(`{"id": %d, "name": "j%d", "status": "failed", "created_at": %q, "web_url": "https://h/p/-/jobs/%d"}`,
					10000-i, i, now.Add(-time.Duration(i)*time.Hour).Format(time.RFC3339), 10000-i))
			}
			if page*per < n {
				w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, "[%s]", strings.Join(items, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: "glpat-x", RetryMax: 0})
	if err != nil {
		t.Fatal(err)
	}
	return c, &pages, &written
}

func TestListFailedJobsStopsAtSinceAndLimit(t *testing.T) {
	c, pages, _ := jobsServer(t, 1000, 0)
	// 150 hours back: jobs 0..150, two pages of 100; the third is never asked.
	got, err := c.ListFailedJobs(context.Background(), "g/p", time.Now().Add(-150*time.Hour-30*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Jobs) != 151 || got.Capped || pages.Load() != 2 || got.Jobs[0].ID != 10000 || got.Jobs[0].WebURL != "https://h/p/-/jobs/10000" {
		t.Fatalf("%d jobs, capped %v, %d pages; first %+v", len(got.Jobs), got.Capped, pages.Load(), got.Jobs[0])
	}
	pages.Store(0)
	got, err = c.ListFailedJobs(context.Background(), "g/p", time.Time{}, 30)
	if err != nil || len(got.Jobs) != 30 || !got.Capped || pages.Load() != 1 {
		t.Fatalf("limit: %v %d capped %v pages %d", err, len(got.Jobs), got.Capped, pages.Load())
	}
}

func TestStreamTrace(t *testing.T) {
	c, _, written := jobsServer(t, 0, 64<<20)
	// Read to the end: the failure after 64 MiB is there.
	var n int64
	var tail string
	err := c.StreamTrace(context.Background(), "g/p", 7, func(r io.Reader) error {
		buf := make([]byte, 32<<10)
		for {
			k, err := r.Read(buf)
			n += int64(k)
			if k > 0 {
				tail = string(buf[max(0, k-80):k])
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil || n < 64<<20 || !strings.Contains(tail, "not allowed from a to b.") {
		t.Fatalf("err %v, %d bytes, tail %q", err, n, tail)
	}
	// A reader that stops early ends the transfer: far less than the log
	// is sent (the server's writes fail once the request is cancelled).
	written.Store(0)
	err = c.StreamTrace(context.Background(), "g/p", 7, func(r io.Reader) error {
		_, err := io.CopyN(io.Discard, r, 1<<20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if w := written.Load(); w > 32<<20 {
		t.Errorf("%d MiB sent for a read of 1 MiB", w>>20)
	}
	t.Logf("sent %d KiB for a read of 1 MiB", written.Load()>>10)
	// A missing job is an error that names it; read sees nothing.
	err = c.StreamTrace(context.Background(), "g/missing", 8, func(r io.Reader) error {
		_, err := io.ReadAll(r)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read the log of job 8 of g/missing") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing job: %v", err)
	}
}
