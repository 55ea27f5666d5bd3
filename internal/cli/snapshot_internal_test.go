package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/live"
)

func testResult() *live.Result {
	return &live.Result{
		Inventory: &inventory.Inventory{Version: 1, ServerURL: "https://gitlab.example.com", Projects: []*inventory.Project{
			{Path: "g/web", ID: 2}, {Path: "g/custom", ID: 3, CIConfigPath: "ci/pipeline.yml"},
		}},
		Files: map[string]map[string][]byte{
			"g/web":    {".gitlab-ci.yml": []byte("build:\n  script: [make]\n"), ".npmrc": []byte("//h/:_authToken=glpat-abcdefghijklmnop0123\n//h/:_authToken=${CI_JOB_TOKEN}\n")},
			"g/custom": {"ci/pipeline.yml": []byte("x: 1\n")},
		},
	}
}

func TestWriteSnapshotRoundTrips(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap")
	if err := writeSnapshot(context.Background(), dir, testResult(), nil); err != nil {
		t.Fatal(err)
	}
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if !snap.HasFiles("g/web") || !snap.HasFiles("g/custom") {
		t.Error("project folders not found by Load")
	}
	npmrc, _ := snap.ReadFile("g/web", ".npmrc")
	if strings.Contains(string(npmrc), "abcdefghijklmnop0123") || !strings.Contains(string(npmrc), "${CI_JOB_TOKEN}") {
		t.Errorf("secret not masked, or reference lost:\n%s", npmrc)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporary folders left beside the snapshot: %v", entries)
	}
}

func TestWriteSnapshotReplacesOnlySnapshots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o644)
	err := writeSnapshot(context.Background(), dir, testResult(), nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Fatalf("err = %v; want a refusal", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "thesis.tex")); string(data) != "precious" {
		t.Error("an unrelated folder was touched")
	}
	// A folder with inventory.yaml but no marker (a repository, or a
	// snapshot from before the marker) is refused too.
	repo := filepath.Join(t.TempDir(), "repo")
	os.MkdirAll(repo, 0o755)
	os.WriteFile(filepath.Join(repo, inventory.FileName), []byte("version: 1\n"), 0o644)
	if err := writeSnapshot(context.Background(), repo, testResult(), nil); err == nil || !strings.Contains(err.Error(), "remove it yourself") {
		t.Fatalf("err = %v; want a refusal with the hint", err)
	}
	// An older snapshot is replaced whole: files it had and the new one has
	// not are gone.
	old := filepath.Join(t.TempDir(), "snap")
	os.MkdirAll(filepath.Join(old, "g", "gone"), 0o755)
	os.WriteFile(filepath.Join(old, inventory.FileName), []byte("version: 1\n"), 0o644)
	os.WriteFile(filepath.Join(old, inventory.MarkerName), []byte("tokenscope snapshot format 1\n"), 0o644)
	os.WriteFile(filepath.Join(old, "g", "gone", ".gitlab-ci.yml"), []byte("x: 1\n"), 0o644)
	if err := writeSnapshot(context.Background(), old, testResult(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(old, "g", "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale project folder survived the replacement")
	}
}

func TestWriteSnapshotCancelledLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := writeSnapshot(ctx, filepath.Join(parent, "snap"), testResult(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestWriteSnapshotRefusesEscapingPaths(t *testing.T) {
	for _, res := range []*live.Result{
		{Inventory: &inventory.Inventory{Version: 1}, Files: map[string]map[string][]byte{"../evil": {"x": nil}}},
		{Inventory: &inventory.Inventory{Version: 1}, Files: map[string]map[string][]byte{"g/p": {"../../x": nil}}},
	} {
		parent := t.TempDir()
		if err := writeSnapshot(context.Background(), filepath.Join(parent, "snap"), res, nil); err == nil {
			t.Error("escaping path written")
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	}
}

// The bar draws only on a terminal, stays within its width when a stage
// reports more than its total, and clears its line at the end.
func TestProgressBar(t *testing.T) {
	var buf strings.Builder
	b := newProgressBar(&IO{Err: &buf, ErrTTY: true})
	b.update(live.Progress{Stage: "files", Done: 12, Total: 10})
	b.done()
	if !strings.Contains(buf.String(), "[==============================] 12/10") || !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("bar = %q", buf.String())
	}
	buf.Reset()
	b = newProgressBar(&IO{Err: &buf})
	b.update(live.Progress{Stage: "files", Done: 1, Total: 10})
	b.done()
	if buf.Len() != 0 {
		t.Errorf("drew on a pipe: %q", buf.String())
	}
}

// The client's typed option errors read as they always did, with the flag
// that named the file.
func TestClientErrorsNameTheFlags(t *testing.T) {
	io := &IO{Getenv: func(k string) string {
		return map[string]string{"GITLAB_URL": "https://gitlab.example.com", "GITLAB_TOKEN": "glpat-x"}[k]
	}}
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.pem")
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	for file, want := range map[string]string{
		missing: "read --ca-file: open " + missing + ": ",
		notPEM:  "--ca-file " + notPEM + ": no PEM certificate found",
	} {
		o := &liveOptions{CAFile: file, Concurrency: 1}
		if _, err := o.newClient(io); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v; want %q...", err, want)
		}
	}
}
