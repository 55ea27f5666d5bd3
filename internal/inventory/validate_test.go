package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCheckProjectPath(t *testing.T) {
	for _, ok := range []string{"a/b", "apps/web", "Group_1/sub.group/my-project", "a/b/c/d", "_under/score.js", "a-/b", "g/p-"} {
		if err := CheckProjectPath(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	deep := strings.Repeat("g/", 22) + "p"
	for _, bad := range []string{
		"", "a", "/etc/passwd", "/etc", ".", "..", "../x", "a/../b", "a/./b", "a//b", "a/b/",
		"a/b\nrm -rf /", "a/b c", "a/$(touch x)", "a/${x}", "a/`id`", "a/b'c", "a/b\"c", "a/-->", "a/b|c",
		"-a/b", "a/-b", ".a/b", "a/.b", "a./b", "a/b.", "a/b..c", "a/b.git", "a.atom/b",
		"api/x", "Admin/x", "a/badges", "a/tree/b", "a/\u00e9", "a/b\x00", "a/\xff",
		strings.Repeat("a", 256) + "/b", deep,
	} {
		if err := CheckProjectPath(bad); err == nil || !errors.Is(err, ErrBadPath) {
			t.Errorf("%q: accepted (%v)", bad, err)
		}
	}
	if err := CheckProjectPath(strings.Repeat("g/", 21) + "p"); err != nil {
		t.Errorf("21 namespace levels are GitLab's limit: %v", err)
	}
}

func TestCheckGroupPath(t *testing.T) {
	for _, ok := range []string{"a", "apps", "a/b", "g-/x_"} {
		if err := CheckGroupPath(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/", "..", "a/..", "a.", "a/b.", "-a", "help", "a/-", "a\nb"} {
		if err := CheckGroupPath(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// TestParseSkipsBadEntries: every bad entry is one error diagnostic naming
// its file and line, and skipped; the good ones stay.
func TestParseSkipsBadEntries(t *testing.T) {
	in := `version: 1
groups:
  - {path: apps, id: 10}
  - {path: "../up", id: 11}
  - {path: libs, id: 10}
  - {path: APPS, id: 12}
projects:
  - {path: apps/web, id: 1}
  - {path: "apps/x\nrm -rf ~", id: 2}
  - {path: /etc, id: 3}
  - {path: ., id: 4}
  - {path: apps/api, id: 1}
  - {path: APPS/WEB, id: 5}
  - {path: apps/neg, id: -1}
  - {path: apps/vis, visibility: secret}
  - id: 6
  - path: libs/lib
    id: 7
    job_token_scope:
      inbound_enabled: true
      allowlist:
        projects:
          - {path: apps/web, id: 1}
          - {path: "a/$(id)", id: 9}
    auth_log:
      - {origin: apps/web, last_authorized_at: 2026-01-02T03:04:05Z}
      - {origin: "../../x", last_authorized_at: 2026-01-02T03:04:05Z}
  - {path: libs/ok, id: 8}
`
	inv, diags, err := Parse("inv.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"inv.yaml:4: error: group path \"../up\"",
		"inv.yaml:5: error: group libs: id 10 is already the id of the group at line 3",
		"inv.yaml:6: error: group APPS is listed twice (first at line 3)",
		"inv.yaml:9: error: project path \"apps/x\\nrm -rf ~\"",
		"inv.yaml:10: error: project path \"/etc\"",
		"inv.yaml:11: error: project path \".\"",
		"inv.yaml:12: error: project apps/api: id 1 is already the id of the project at line 8",
		"inv.yaml:13: error: project APPS/WEB is listed twice (first at line 8)",
		"inv.yaml:14: error: project apps/neg: id -1",
		"inv.yaml:15: error: project apps/vis: visibility secret",
		"inv.yaml:16: error: projects[8]: path is required",
		"inv.yaml:24: error: project libs/lib: allowlist entry path \"a/$(id)\"",
		"inv.yaml:27: error: project libs/lib: auth_log origin path \"../../x\"",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
	if len(got) != 13 || !diags.HasErrors() {
		t.Errorf("%d diagnostics, want 13:\n%s", len(got), all)
	}
	var paths []string
	for _, p := range inv.Projects {
		paths = append(paths, p.Path)
	}
	if strings.Join(paths, " ") != "apps/web libs/lib libs/ok" {
		t.Errorf("projects kept: %v", paths)
	}
	if len(inv.Groups) != 1 || inv.Groups[0].Path != "apps" {
		t.Errorf("groups kept: %v", inv.Groups)
	}
	lib := NewIndex(inv).Project("libs/lib")
	if lib.JobTokenScope != nil || !lib.StateUnknown() {
		t.Error("an allowlist with a bad entry must be unknown, not partial")
	}
	if len(lib.AuthLog) != 1 || lib.AuthLog[0].Origin != "apps/web" {
		t.Errorf("auth log: %v", lib.AuthLog)
	}
	if NewIndex(inv).ProjectByID(1).Path != "apps/web" {
		t.Error("a duplicate ID must not take over the first project's")
	}
}

// TestLoadRefusesBadFolders: a folder name that GitLab could not hold as
// a project path (a newline in it, a leading '-') is reported and skipped;
// the scan goes on with the rest.
func TestLoadRefusesBadFolders(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file names with newlines")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"apps/web/.gitlab-ci.yml":                 "job: {script: [echo]}\n",
		"apps/x\n# $(touch pwned)/.gitlab-ci.yml": "job: {script: [echo]}\n",
		"apps/-rf/.gitlab-ci.yml":                 "job: {script: [echo]}\n",
		"apps/a b/.gitlab-ci.yml":                 "job: {script: [echo]}\n",
	})
	s, diags, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Inventory.Projects) != 1 || s.Inventory.Projects[0].Path != "apps/web" {
		t.Errorf("projects: %v", s.Inventory.Projects)
	}
	n := 0
	for _, d := range diags {
		if strings.Contains(d.Summary, "project folder") {
			n++
			if strings.Contains(d.String(), "\n") {
				t.Errorf("a diagnostic holds a raw newline: %q", d.String())
			}
		}
	}
	if n != 3 {
		t.Errorf("%d folder diagnostics, want 3: %v", n, diags)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("pwned")
	}
}

// TestWriteCancelledLeavesNothing: a snapshot write that is cancelled
// (Ctrl-C, SIGTERM) removes its temporary folder and leaves the target
// as it was.
func TestWriteCancelledLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv := &Inventory{Version: Version, Projects: []*Project{{Path: "g/p"}}}
	err := Write(ctx, filepath.Join(parent, "snap"), inv, map[string]map[string][]byte{"g/p": {".gitlab-ci.yml": []byte("x: 1\n")}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestWriteRemovesStaleTemporaryFolders: what a killed Write left (its
// marker inside, untouched for long) is removed by the next one; a fresh
// one (a concurrent Write) and a folder without the marker stay.
func TestWriteRemovesStaleTemporaryFolders(t *testing.T) {
	parent := t.TempDir()
	old := time.Now().Add(-2 * staleAfter)
	mk := func(name string, marker bool, mtime time.Time) string {
		p := filepath.Join(parent, name)
		os.MkdirAll(filepath.Join(p, "g", "p"), 0o755)
		if marker {
			os.WriteFile(filepath.Join(p, MarkerName), nil, 0o644)
		}
		os.Chtimes(p, mtime, mtime)
		return p
	}
	stale := mk(".snap.tmp-111", true, old)
	fresh := mk(".snap.tmp-222", true, time.Now())
	foreign := mk(".snap.tmp-333", false, old)
	other := mk(".other.tmp-444", true, old)
	if err := Write(context.Background(), filepath.Join(parent, "snap"), &Inventory{Version: Version}, nil); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{stale: false, fresh: true, foreign: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists=%v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
