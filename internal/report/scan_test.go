package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

var update = flag.Bool("u", false, "update golden files")

// sampleGraph is the case every scan renderer is checked on.
func sampleGraph() *graph.Graph {
	return &graph.Graph{
		Edges: []graph.Edge{
			{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.ArtifactsRead, access.PackagesRead},
				Uses: []use.Use{
					{Origin: use.AuthLog, Caller: "apps/web", Callee: "libs/jslib", Evidence: use.Evidence{Pos: loc.Pos{Project: "libs/jslib"}, Detail: "job token authentication log: last authorized 2026-11-01T10:00:00Z"}},
					{Origin: use.CIConfig, Access: access.PackagesRead, Caller: "apps/web", Callee: "libs/jslib", Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".npmrc", Line: 2}, Detail: "npm registry projects/201 with _authToken=${CI_JOB_TOKEN}"}},
					{Origin: use.CIConfig, Access: access.ArtifactsRead, Caller: "apps/web", Callee: "libs/jslib", Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 24}, Job: "build", Detail: "needs:project libs/jslib job build"}},
				}},
			{Caller: "apps/web", Callee: "platform/build-scripts", Access: []access.Kind{access.RepositoryRead},
				Uses: []use.Use{{Origin: use.CIConfig, Access: access.RepositoryRead, Caller: "apps/web", Callee: "platform/build-scripts",
					Evidence: use.Evidence{Pos: loc.Pos{Project: "platform/ci-templates", File: "templates/build.yml", Line: 7}, Job: "build", Detail: `git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/build-scripts.git" | x`}}}},
		},
		Unresolved: []use.Unresolved{{Pos: loc.Pos{Project: "data/etl", File: ".gitlab-ci.yml", Line: 30}, Job: "fixtures", Access: access.RepositoryRead,
			Reference: "${FIXTURES_REPO}", Reason: "variable FIXTURES_REPO is not defined in the CI config"}},
		Notes: []use.Note{
			{Pos: loc.Pos{Project: "apps/web", File: "ci/deploy.yml", Line: 5}, Job: "deploy", Kind: use.NotJobToken, Detail: "trigger: apps/deploy creates the downstream pipeline as the pipeline user"},
			{Pos: loc.Pos{Project: "data/reports", File: "ci/x.csv", Line: 1}, Kind: use.WontWork, Detail: "=HYPERLINK(\"x\")"},
		},
	}
}

func TestScanFormats(t *testing.T) {
	for _, f := range ScanFormats {
		t.Run(f, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Scan(&buf, sampleGraph(), f); err != nil {
				t.Fatal(err)
			}
			golden(t, "scan."+f, buf.Bytes())
		})
	}
}

func TestScanJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := Scan(&buf, &graph.Graph{}, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"edges", "unresolved", "notes"} {
		if v, ok := doc[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v; want an empty array, never null", k, doc[k])
		}
	}
	if doc["version"] != float64(ScanFormatVersion) {
		t.Errorf("version = %v", doc["version"])
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	if err := Scan(&buf, sampleGraph(), FormatCSV); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK`) {
		t.Errorf("formula cell not defused:\n%s", buf.String())
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Scan(&bytes.Buffer{}, sampleGraph(), "yaml"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("err = %v", err)
	}
}

// golden compares got with testdata/name.golden; -u rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -u to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -u to update):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}
