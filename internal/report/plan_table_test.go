package report

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func renderTable(t *testing.T, trusted bool, h PlanHints) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Plan(&buf, samplePlan(t, trusted), FormatTable, h); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestPlanTableStepsFull: the default table drops nothing but the UI
// clicks and API calls, which --steps full prints, every call whole.
func TestPlanTableStepsFull(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		short := renderTable(t, trusted, testHints)
		fh := testHints
		fh.FullSteps = true
		full := renderTable(t, trusted, fh)
		if strings.Contains(short, "curl ") || strings.Contains(short, "   UI (GitLab") {
			t.Errorf("the default table prints the calls:\n%s", short)
		}
		// Full without its UI and API blocks is the default table, apart from
		// the pointers to --steps full.
		var kept []string
		in := false
		for _, l := range strings.Split(full, "\n") {
			switch {
			case strings.HasPrefix(l, "   UI (GitLab") || strings.HasPrefix(l, "   API (token"):
				in = true
				continue
			case in && strings.HasPrefix(l, "     "):
				continue
			}
			in = false
			kept = append(kept, l)
		}
		// Words, not lines: the pointers to --steps full change the wrapping.
		pointer := regexp.MustCompile(`One line per action; the UI clicks and API calls of each: --steps full \(or --format script\)\.|the API steps of --steps full|the steps of --steps full|the API steps above|the steps above`)
		norm := func(s string) string {
			return strings.Join(strings.Fields(pointer.ReplaceAllString(strings.Join(strings.Fields(s), " "), "")), " ")
		}
		if a, b := norm(short), norm(strings.Join(kept, "\n")); a != b {
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Errorf("the default table and --steps full differ beyond the steps, at %q vs %q", a[i:min(len(a), i+80)], b[i:min(len(b), i+80)])
		}
		p := samplePlan(t, trusted)
		n := 0
		for _, pr := range p.Projects {
			for _, c := range pr.Calls(p.Capabilities) {
				n++
				for _, l := range strings.Split(curl(c), "\n") {
					if !strings.Contains(full, l) {
						t.Errorf("--steps full lacks the call line %q", l)
					}
				}
			}
		}
		if n == 0 {
			t.Fatal("the sample plan makes no call: the test checks nothing")
		}
	}
}

// TestPlanTableLayout: the default table fits 100 columns, lists the
// callees in wave order, and colour changes nothing but escape codes.
func TestPlanTableLayout(t *testing.T) {
	out := renderTable(t, true, testHints)
	for i, l := range strings.Split(out, "\n") {
		if width(l) > tableWidth {
			t.Errorf("line %d is %d columns: %q", i+1, width(l), l)
		}
	}
	p := samplePlan(t, true)
	var want []string
	for _, w := range p.Waves {
		for _, pr := range p.Projects {
			if pr.Wave == w.Name && !slices.Contains(want, pr.Path) {
				want = append(want, pr.Path)
			}
		}
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^== ([^ ,]+)`).FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, want) || len(got) < 2 {
		t.Errorf("callees in order %v, want the waves' order %v", got, want)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
	ch := testHints
	ch.Color = true
	colored := renderTable(t, true, ch)
	if !strings.Contains(colored, "\x1b[32madd\x1b[0m") || !strings.Contains(colored, "\x1b[1mEDGES") {
		t.Errorf("no colour on status words and headers:\n%q", colored)
	}
	if plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(colored, ""); plain != out {
		t.Errorf("colour changed more than escape codes:\n%s", plain)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aaa bbb ccc "+strings.Repeat("x", 12), "> ", "  ", 10)
	want := []string{"> aaa bbb", "  ccc", "  " + strings.Repeat("x", 12)}
	if !slices.Equal(got, want) {
		t.Errorf("wrap = %q, want %q", got, want)
	}
	// A command in backticks is not broken, so that it copies whole.
	got = wrap("run `tokenscope trust init` then", "", "", 12)
	want = []string{"run", "`tokenscope trust init`", "then"}
	if !slices.Equal(got, want) {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

// TestAccessLines: an edge row longer than the width continues its access
// kinds under ACCESS, after a comma; a row that fits is left alone.
func TestAccessLines(t *testing.T) {
	line := "apps/deploy            infra/tfstate           update       terraform-state-read,terraform-state-write"
	got := accessLines(line, "terraform-state-read,terraform-state-write", 100)
	want := []string{
		"apps/deploy            infra/tfstate           update       terraform-state-read,",
		"                                                            terraform-state-write",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, l := range got {
		if width(l) > 100 {
			t.Errorf("line of %d columns: %q", width(l), l)
		}
	}
	short := "a  b  add  packages-read"
	if got := accessLines(short, "packages-read", 100); !slices.Equal(got, []string{short}) {
		t.Errorf("a row that fits changed: %q", got)
	}
	// One kind longer than the room stays whole (never cut inside a word).
	if got := accessLines(line, "terraform-state-read,terraform-state-write", 70); len(got) != 2 || !strings.HasSuffix(got[1], "terraform-state-write") {
		t.Errorf("narrow: %q", got)
	}
}
