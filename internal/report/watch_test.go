package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/watch"
)

func watchReport() *watch.Report {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	f := func(callee string, id int64, name string, kind joblog.Kind, action string) watch.Finding {
		return watch.Finding{
			Job: gitlab.FailedJob{Project: "apps/web", ID: id, Name: name, WebURL: "https://h/apps/web/-/jobs/1", CreatedAt: at},
			Diagnosis: joblog.Diagnosis{Failure: joblog.Failure{Log: "apps/web job 1", Line: 3, Signature: "allowlist-denied", Kind: kind,
				Message: "remote: denied", CalleeRef: "jslib"}, Caller: "apps/web", Callee: callee, Verdict: "do this"},
			Action: action,
		}
	}
	return &watch.Report{Since: at.Add(-7 * 24 * time.Hour), Projects: 2, Failed: 3, LogsRead: 3, Bytes: 2048,
		Findings: []watch.Finding{
			f("libs/jslib", 2, "deps\n\x1b[31mFAKE LINE", joblog.NotAllowlisted, "apply"),
			f("libs/jslib", 1, "deps", joblog.NotAllowlisted, "apply"),
			f("", 3, "trigger", joblog.NotJobToken, "not-job-token"),
		},
		Notes: []string{"apps/web job 1: 1 line(s) longer than 65536 bytes"}}
}

func TestWatchJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Watch(&b, watchReport(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		Callees []struct {
			Callee   string           `json:"callee"`
			Failures []map[string]any `json:"failures"`
		} `json:"callees"`
		Bytes int `json:"log_bytes_read"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != WatchFormatVersion || doc.Bytes != 2048 || len(doc.Callees) != 2 || doc.Callees[0].Callee != "libs/jslib" ||
		len(doc.Callees[0].Failures) != 2 || doc.Callees[1].Callee != "jslib" {
		t.Fatalf("doc = %s", b.String())
	}
	f := doc.Callees[0].Failures[0]
	if f["action"] != "apply" || f["kind"] != "not-allowlisted" || f["job_token"] != true || f["job"].(map[string]any)["id"] != float64(2) {
		t.Errorf("failure = %v", f)
	}
}

func TestWatchTable(t *testing.T) {
	var b bytes.Buffer
	if err := Watch(&b, watchReport(), FormatTable); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"3 failed job(s) since 2026-11-21T10:00:00Z in 2 project(s); 3 log(s) read, 2.0 KiB\n",
		"2 job-token failure(s) in 2 job(s), 1 other failure(s)\n",
		"\nlibs/jslib\n  apps/web job 2 ",
		"note: apps/web job 1: 1 line(s) longer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// A job name from GitLab cannot forge a line or a colour.
	if strings.Contains(out, "\nFAKE") || strings.Contains(out, "\x1b") || strings.Contains(out, "\n[31m") {
		t.Errorf("control characters from a job name reach the output:\n%q", out)
	}
	if err := Watch(&b, watchReport(), FormatMarkdown); err == nil {
		t.Error("markdown is not a watch format")
	}
}
