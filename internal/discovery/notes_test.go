package discovery

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Every note kind of ciconfig has a scan note kind, and the result is in
// use.SortNotes order.
func TestConfigNotes(t *testing.T) {
	at := loc.Pos{Project: "g/app", File: ".gitlab-ci.yml", Line: 4}
	tpl := loc.Pos{Project: "g/tpl", File: "t.yml", Line: 2}
	got := configNotes([]ciconfig.Note{
		{Pos: at, Job: "deploy", Kind: ciconfig.PipelineUser, Detail: "trigger: g/down"},
		{Pos: at, Kind: ciconfig.NotFetched, Detail: "include:remote"},
		{Pos: tpl, Job: "release", Kind: ciconfig.PipelineUser, Detail: "trigger: g/rel"},
	}, "g/app")
	want := []use.Note{
		{Pos: at, Kind: use.NotFetched, Detail: "include:remote"},
		{Pos: at, Job: "deploy", Kind: use.NotJobToken, Detail: "trigger: g/down"},
		// a template's note names the template's project, for the caller
		{Pos: tpl, Caller: "g/app", Job: "release", Kind: use.NotJobToken, Detail: "trigger: g/rel"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("note %d = %v, want %v", i, got[i], want[i])
		}
	}
}
