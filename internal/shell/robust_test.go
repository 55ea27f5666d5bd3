package shell

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// TestAnalyzeHostile checks that scripts built to explode terminate
// quickly with bounded output.
func TestAnalyzeHostile(t *testing.T) {
	items := strings.Repeat("x ", 1000)
	nested := ""
	for range 6 {
		nested += "for a in " + strings.Repeat("1 ", 32) + "; do "
	}
	nested += "echo $a"
	nested += strings.Repeat("; done", 6)
	doubling := "X=ab\n" + strings.Repeat("X=$X$X\n", 40) + "echo ${#X}"
	tests := []struct {
		name, src string
		maxCmds   int
		diag      string // substring of an expected diagnostic ("" for none)
	}{
		{"fork bomb", `:(){ :|:& };:`, 0, ""},
		{"recursion", `f() { echo "$1"; f "x$1"; }; f a`, 3, ""},
		{"mutual recursion", `a() { b; echo a; }; b() { a; echo b; }; a`, 10, ""},
		{"eval quine", `e='eval "$e"'; eval "$e"`, 40, ""},
		{"too deep to parse", strings.Repeat("(", 2000) + "echo deep" + strings.Repeat(")", 2000), 1, "cannot parse"},
		{"deep if", strings.Repeat("if [[ x ]]; then ", 400) + "echo x" + strings.Repeat("; fi", 400), 1, "nests too deeply"},
		{"long loop list", "for i in " + items + "; do echo $i; done", 32, "only the first 32"},
		{"nested loops", nested, maxLoopIters + 100, "loops run more than"},
		{"while true", `while true; do git fetch; done`, 2, ""},
		{"value doubling", doubling, 1, ""},
		{"pattern on long value", `X=$(printf '%s' ` + strings.Repeat("a", 5000) + `); echo ${X%%a*b} ${X#*a} ${X//a/bb}`, 2, ""},
		{"many commands", strings.Repeat("echo x; ", 200), 100, "more than 100 commands"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			maxCmds := 100
			if tt.name == "nested loops" {
				maxCmds = 0 // default: let the step budget stop it
			}
			r := Analyze(script(tt.src), jobEnv(), Options{MaxCommands: maxCmds})
			if d := time.Since(start); d > 5*time.Second { // a hang guard; typical runs take milliseconds
				t.Errorf("took %v", d)
			}
			if len(r.Commands) > tt.maxCmds {
				t.Errorf("%d commands", len(r.Commands))
			}
			found := tt.diag == ""
			for _, d := range r.Diags {
				if strings.Contains(d.Summary, "internal error") {
					t.Errorf("panic: %v", d)
				}
				if tt.diag != "" && strings.Contains(d.Summary, tt.diag) {
					found = true
				}
			}
			if !found {
				t.Errorf("diags %v, want one containing %q", r.Diags, tt.diag)
			}
		})
	}
}

func TestAnalyzeFileCyclesAndDepth(t *testing.T) {
	files := map[string]string{
		"a.sh": "echo a; source b.sh",
		"b.sh": "echo b; . ./a.sh",
	}
	for i := range 12 {
		files[fmt.Sprintf("d%d.sh", i)] = fmt.Sprintf("echo d%d; bash d%d.sh", i, i+1)
	}
	files["bad.sh"] = "echo ok\nif then fi"
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	r := Analyze(script("source a.sh\nbash d0.sh\n./bad.sh\necho end"), jobEnv(), Options{ReadFile: read, MaxFileDepth: 4})
	got := renderAll(r.Commands)
	if got[len(got)-1] != "13: echo end" {
		t.Errorf("analysis did not continue: %q", got)
	}
	var summaries []string
	for _, d := range r.Diags {
		summaries = append(summaries, fmt.Sprintf("%s:%d %s %s", d.File, d.Line, d.Severity, d.Summary))
	}
	want := []string{
		"b.sh:1 warning script a.sh runs itself again (through a.sh -> b.sh): not followed a second time",
		"d3.sh:1 warning script d4.sh not analysed: scripts running scripts nest deeper than 4",
		"bad.sh:2 error cannot parse the script as shell: `if` must be followed by a statement list",
	}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") {
		t.Errorf("diags:\n%s\nwant:\n%s", strings.Join(summaries, "\n"), strings.Join(want, "\n"))
	}
}

// TestAnalyzeConcurrent runs analyses in parallel over the shared parse
// cache (run with -race).
func TestAnalyzeConcurrent(t *testing.T) {
	want := renderAll(Analyze(benchSources, jobEnv(), Options{}).Commands)
	done := make(chan []string)
	for range 4 {
		go func() {
			var got []string
			for range 20 {
				got = renderAll(Analyze(benchSources, jobEnv(), Options{}).Commands)
			}
			done <- got
		}()
	}
	for range 4 {
		if got := <-done; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("concurrent result differs:\n%s", strings.Join(got, "\n"))
		}
	}
}

// TestAnalyzeRecoversPerSource checks the last-resort recovery: a panic
// (here from the caller's ReadFile) is reported on its source and the
// other sources are still analysed.
func TestAnalyzeRecoversPerSource(t *testing.T) {
	read := func(name string) ([]byte, error) { panic("disk on fire") }
	srcs := []Source{
		{Text: "bash ci/boom.sh", Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 3}, LineStep: 1, Section: "script"},
		{Text: "echo after", Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 4}, LineStep: 1, Section: "script"},
	}
	r := Analyze(srcs, jobEnv(), Options{ReadFile: read})
	if got := renderAll(r.Commands); strings.Join(got, "|") != "3: bash ci/boom.sh|4: echo after" {
		t.Errorf("commands %q", got)
	}
	if len(r.Diags) != 1 || r.Diags[0].Line != 3 || !strings.Contains(r.Diags[0].Summary, "internal error") || !strings.Contains(r.Diags[0].Summary, "disk on fire") {
		t.Errorf("diags %v", r.Diags)
	}
}
