package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

// The scan JSON carries a finding's variants as a list (docs/design.md §5,
// additive), and leaves the field out for a job with one variable set.
func TestScanJSONVariants(t *testing.T) {
	vs := use.VariantsOf([]string{"base", "workflow:rules[0]", "rules[1]"})
	at := loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 4}
	g := &graph.Graph{
		Edges: []graph.Edge{{Caller: "apps/web", Callee: "libs/lib", Access: []access.Kind{access.PackagesRead}, Uses: []use.Use{
			{Origin: use.CIConfig, Access: access.PackagesRead, Caller: "apps/web", Callee: "libs/lib", Evidence: use.Evidence{Pos: at, Job: "fetch", Detail: "curl", Variants: vs}},
			{Origin: use.CIConfig, Access: access.PackagesRead, Caller: "apps/web", Callee: "libs/lib", Evidence: use.Evidence{Pos: at, Job: "plain", Detail: "curl"}},
		}}},
		Unresolved: []use.Unresolved{{Pos: at, Job: "fetch", Reference: "$X", Reason: "r", Variants: vs}},
		Notes:      []use.Note{{Pos: at, Job: "never", Kind: use.NeverRuns, Detail: "d"}, {Pos: at, Job: "fetch", Kind: use.OtherHost, Detail: "d", Variants: vs}},
	}
	var buf bytes.Buffer
	if err := Scan(&buf, g, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Edges []struct {
			Uses []struct {
				Job      string    `json:"job"`
				Variants *[]string `json:"variants"`
			} `json:"uses"`
		} `json:"edges"`
		Unresolved []struct {
			Variants []string `json:"variants"`
		} `json:"unresolved"`
		Notes []struct {
			Kind     string    `json:"kind"`
			Variants *[]string `json:"variants"`
		} `json:"notes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := vs.List()
	us := doc.Edges[0].Uses
	if us[0].Variants == nil || !slices.Equal(*us[0].Variants, want) || us[1].Variants != nil {
		t.Errorf("uses: %+v", us)
	}
	if !slices.Equal(doc.Unresolved[0].Variants, want) {
		t.Errorf("unresolved: %+v", doc.Unresolved)
	}
	if doc.Notes[0].Kind != "never-runs" || doc.Notes[0].Variants != nil || doc.Notes[1].Variants == nil {
		t.Errorf("notes: %+v", doc.Notes)
	}
}
