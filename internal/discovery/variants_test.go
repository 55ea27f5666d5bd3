package discovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// workflow returns a workflow: block of n rules, each setting variables
// that jobs do not read (as GitLab's own PIPELINE_NAME, RUBY_VERSION).
func workflow(n int) string {
	var b strings.Builder
	b.WriteString("workflow:\n  rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "    - if: '$CI_MERGE_REQUEST_LABELS =~ /pipeline:%d/'\n      variables:\n        PIPELINE_NAME: 'Pipeline %d'\n        RUBY_VERSION: \"3.%d\"\n", i, i, i)
	}
	return b.String()
}

const fetchLib = `    - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" --output x.tgz "$CI_API_V4_URL/projects/group%2F${LIB}/packages/generic/x/1.0/x.tgz"'
`

// TestVariantsAnalysedOnce: a job is analysed once per distinct effective
// environment of what it reads, and each use is reported once with the
// variants it appears under.
func TestVariantsAnalysedOnce(t *testing.T) {
	wf3 := func(n int) []string {
		out := []string{"base"}
		for i := range n {
			out = append(out, fmt.Sprintf("workflow:rules[%d]", i))
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		ci       string
		analyses int
		want     []string
	}{
		{
			name:     "workflow rules with variables the job does not read",
			ci:       workflow(34) + "variables:\n  LIB: lib\nfetch:\n  script:\n" + fetchLib,
			analyses: 1,
			want:     []string{"group/app → group/lib packages-read fetch {" + strings.Join(wf3(34), ",") + "}"},
		},
		{
			name: "a rule's variable that changes the target",
			ci: workflow(3) + "variables:\n  LIB: lib\nfetch:\n  script:\n" + fetchLib +
				"  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n        LIB: other\n    - when: on_success\n",
			analyses: 2,
			want: []string{
				"group/app → group/lib packages-read fetch {" + strings.Join(wf3(3), ",") + "}",
				"group/app → group/other packages-read fetch {rules[0]}",
			},
		},
		{
			name: "a workflow rule's variable the job reads",
			ci: "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n        LIB: other\n    - if: $CI_MERGE_REQUEST_IID\n      variables:\n        PIPELINE_NAME: mr\n" +
				"variables:\n  LIB: lib\nfetch:\n  script:\n" + fetchLib,
			analyses: 2,
			want: []string{
				"group/app → group/lib packages-read fetch {base,workflow:rules[1]}",
				"group/app → group/other packages-read fetch {workflow:rules[0]}",
			},
		},
		{
			name:     "matrix combinations, one axis read",
			ci:       "fetch:\n  parallel:\n    matrix:\n      - LIB: [lib, other]\n        ARCH: [amd64, arm64, s390x]\n  script:\n" + fetchLib,
			analyses: 2,
			want: []string{
				"group/app → group/lib packages-read fetch {fetch: [lib, amd64],fetch: [lib, arm64],fetch: [lib, s390x]}",
				"group/app → group/other packages-read fetch {fetch: [other, amd64],fetch: [other, arm64],fetch: [other, s390x]}",
			},
		},
		{
			name:     "a job without variants has no variant list",
			ci:       "variables:\n  LIB: lib\nfetch:\n  script:\n" + fetchLib,
			analyses: 1,
			want:     []string{"group/app → group/lib packages-read fetch {}"},
		},
		{
			// pip finds index variables by listing the job's variables:
			// one that only a rule defines was never read by the first
			// analysis, and must not be taken as irrelevant.
			name: "a variable found by pattern that only a rule defines",
			ci: "install:\n  script:\n    - pip install -r requirements.txt\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n" +
				"        PIP_INDEX_URL: https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/group%2Flib/packages/pypi/simple\n    - when: on_success\n",
			analyses: 2,
			want:     []string{"group/app → group/lib packages-read install {rules[0]}"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, n := scanMem(t, memFiles{"group/app": {".gitlab-ci.yml": tc.ci}})
			got := edgeUses(g)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("uses:\n got %q\nwant %q", got, tc.want)
			}
			if n != tc.analyses {
				t.Errorf("%d analyses, want %d", n, tc.analyses)
			}
			for _, nt := range g.Notes {
				if nt.Kind == "config-error" {
					t.Errorf("config error: %s", nt.Detail)
				}
			}
		})
	}
}

// TestVariantsNotesOnce: 34 workflow rules do not multiply notes or
// unresolved rows.
func TestVariantsNotesOnce(t *testing.T) {
	ci := workflow(34) + "fetch:\n  script:\n" + `    - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$UNKNOWN_ID/packages/generic/x/1.0/x.tgz"'` + "\n" +
		`    - 'curl --header "PRIVATE-TOKEN: $TOKEN" "$CI_API_V4_URL/projects/group%2Flib/repository/files"'` + "\n"
	g, n := scanMem(t, memFiles{"group/app": {".gitlab-ci.yml": ci}})
	if n != 1 {
		t.Errorf("%d analyses, want 1", n)
	}
	if len(g.Unresolved) != 1 {
		t.Errorf("unresolved rows: %+v", g.Unresolved)
	} else if v := g.Unresolved[0].Variants.List(); len(v) != 35 {
		t.Errorf("unresolved row variants: %q", v)
	}
	jobNotes := 0
	for _, nt := range g.Notes {
		if nt.Job != "" {
			jobNotes++
			if nt.Job != "fetch" || len(nt.Variants.List()) != 35 {
				t.Errorf("note %+v", nt)
			}
		}
	}
	t.Logf("%d job notes", jobNotes)
}

// TestVariantsByPattern: Terraform finds TF_TOKEN_<host> by listing the
// job's variables; one that only a rule defines was never read by the
// first analysis and must not be taken as irrelevant.
func TestVariantsByPattern(t *testing.T) {
	ci := "plan:\n  script:\n    - terraform init\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n        TF_TOKEN_gitlab_example_com: $CI_JOB_TOKEN\n    - when: on_success\n"
	tf := "module \"vpc\" {\n  source  = \"gitlab.example.com/infra/vpc/aws\"\n  version = \"1.0.0\"\n}\n"
	g, n := scanMem(t, memFiles{"group/app": {".gitlab-ci.yml": ci, "main.tf": tf}})
	if n != 2 {
		t.Errorf("%d analyses, want 2", n)
	}
	var got []string
	for _, u := range g.Unresolved {
		got = append(got, u.File+" "+u.Job+" {"+strings.Join(u.Variants.List(), ",")+"}")
	}
	if want := []string{"main.tf plan {rules[0]}"}; !slices.Equal(got, want) {
		t.Errorf("unresolved %q, want %q", got, want)
	}
}

// TestVariantsPlaceMatters: two rules set the same value at different
// lines; the use is found at each line, under its own rule (evidence
// points at the variable), not merged into the first.
func TestVariantsPlaceMatters(t *testing.T) {
	idx := "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/group%2Flib/packages/pypi/simple"
	ci := "install:\n  script:\n    - pip install -r requirements.txt\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n        PIP_INDEX_URL: " + idx +
		"\n    - if: $CI_MERGE_REQUEST_IID\n      variables:\n        PIP_INDEX_URL: " + idx + "\n    - when: on_success\n"
	g, _ := scanMem(t, memFiles{"group/app": {".gitlab-ci.yml": ci}})
	var got []string
	for _, e := range g.Edges {
		for _, u := range e.Uses {
			got = append(got, fmt.Sprintf("%d {%s}", u.Evidence.Line, strings.Join(u.Evidence.Variants.List(), ",")))
		}
	}
	slices.Sort(got)
	if want := []string{"10 {rules[1]}", "7 {rules[0]}"}; !slices.Equal(got, want) {
		t.Errorf("uses %q, want %q", got, want)
	}
}

// countingDetector counts the runs of the detector it wraps.
type countingDetector struct {
	detect.Detector
	n *atomic.Int64
}

func (c countingDetector) Detect(in *detect.Input, out *detect.Output) {
	c.n.Add(1)
	c.Detector.Detect(in, out)
}

// TestVariantsPlaceReadByValue: each workflow rule defines RUBY_VERSION
// on its own line with the same value, and the job's image reads it by
// value only: the detectors that find the image's use run once for all
// rules, not once per rule (the place of a definition matters only to a
// detector that consults it, see TestVariantsPlaceMatters).
func TestVariantsPlaceReadByValue(t *testing.T) {
	var b strings.Builder
	b.WriteString("workflow:\n  rules:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "    - if: '$CI_MERGE_REQUEST_LABELS =~ /pipeline:%d/'\n      variables:\n        PIPELINE_NAME: 'Pipeline %d'\n        RUBY_VERSION: \"3.2\"\n", i, i)
	}
	b.WriteString("variables:\n  RUBY_VERSION: \"3.2\"\ntest:\n  image: registry.example.com/group/lib/ruby:${RUBY_VERSION}\n  script:\n    - echo hello\n")
	inv := &inventory.Inventory{Version: inventory.Version, ServerURL: "https://gitlab.example.com", Registry: "registry.example.com"}
	for i, p := range []string{"group/app", "group/lib"} {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: 100 + i})
	}
	var dets []detect.Detector
	counts := map[string]*atomic.Int64{}
	for _, d := range detect.All() {
		counts[d.Name()] = &atomic.Int64{}
		dets = append(dets, countingDetector{d, counts[d.Name()]})
	}
	res, err := DiscoverFiles(context.Background(), inv, memFiles{"group/app": {".gitlab-ci.yml": b.String()}}, Options{Detectors: dets, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := graph.Build(inventory.NewIndex(inv), res.Uses, append(res.Notes, DiagNotes(res.Diags)...))
	got := edgeUses(g)
	if len(got) != 1 || !strings.HasPrefix(got[0], "group/app → group/lib ") || strings.Count(got[0], "workflow:rules[") != 10 {
		t.Fatalf("uses %q, want one use of group/lib under base and the 10 workflow rules", got)
	}
	for name, n := range counts {
		if n.Load() > 2 { // the repository-level run and one job run
			t.Errorf("detector %s ran %d times", name, n.Load())
		}
	}
}
