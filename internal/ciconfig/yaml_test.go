package ciconfig

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// Psych applies `<<` in order: keys before it are overwritten by the merged
// mapping, keys after it win; in `<<: [*a, *b]` the earlier alias wins
// (GitLab's Psych loader, lib/gitlab/config/loader/yaml.rb, GitLab issue 55139).
func TestMergeKeyPsychOrder(t *testing.T) {
	cfg := loadApp(t, `
.a: &a
  variables: {FROM: a, A: "1"}
  script: [echo a]
.b: &b
  variables: {FROM: b, B: "2"}
  image: b-image
before:
  variables: {FROM: job}
  <<: *a
after:
  <<: *a
  variables: {FROM: job}
list:
  <<: [*a, *b]
list-reversed:
  <<: [*b, *a]
`, nil)
	requireClean(t, cfg)
	tests := []struct {
		job   string
		vars  map[string]string
		image string
	}{
		{"before", map[string]string{"FROM": "a", "A": "1"}, ""}, // merged mapping replaced the key written before <<
		{"after", map[string]string{"FROM": "job"}, ""},
		{"list", map[string]string{"FROM": "a", "A": "1"}, "b-image"},
		{"list-reversed", map[string]string{"FROM": "b", "B": "2"}, "b-image"}, // *b first: its mapping wins whole
	}
	for _, tt := range tests {
		j := jobNamed(t, cfg, tt.job)
		equalMap(t, tt.job+" variables", varMap(j.Variables), tt.vars)
		got := ""
		if j.Image != nil {
			got = j.Image.Name
		}
		if got != tt.image {
			t.Errorf("%s image = %q, want %q", tt.job, got, tt.image)
		}
	}
}

func TestMergeKeyListEarlierWins(t *testing.T) {
	cfg := loadApp(t, `
.x: &x {stage: x, script: [echo x]}
.y: &y {stage: y, script: [echo y]}
j1:
  <<: [*x, *y]
j2:
  <<: [*y, *x]
`, nil)
	requireClean(t, cfg)
	equalStrings(t, "j1", texts(jobNamed(t, cfg, "j1").Script), []string{"echo x"})
	equalStrings(t, "j2", texts(jobNamed(t, cfg, "j2").Script), []string{"echo y"})
}

// A `<<` whose value is not a mapping stays an ordinary key in Psych.
func TestMergeKeyNonMapping(t *testing.T) {
	cfg := loadApp(t, `
.s: &s just-a-string
job:
  <<: *s
  script: [echo ok]
`, nil)
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "job").Script), []string{"echo ok"})
}

// gitlab-ci-local fixture duplicated-keys: the last duplicate wins, an
// anchor on the overwritten value can still be aliased.
func TestDuplicatedKeys(t *testing.T) {
	cfg := loadApp(t, `---
variables: &foo
  FOO: "1"

variables: &bar  # yamllint disable-line rule:key-duplicates
  BAR: "2"

duplicated-keys:
  script:
    - echo "$FOO"
  variables:
    <<: *bar

duplicated-keys anchor tag can still be referenced:
  script:
    - echo "$FOO"
  variables:
    <<: *foo

duplicated-keys variables overwritten:
  script:
    - echo "$FOO"
`, nil)
	requireClean(t, cfg)
	d := requireDiag(t, cfg, diag.Warning, "duplicate key `variables`", "first on line 2")
	if d.Line != 5 || d.File != ".gitlab-ci.yml" || d.Project != app {
		t.Errorf("duplicate warning at %s:%d, want .gitlab-ci.yml:5", d.File, d.Line)
	}
	equalMap(t, "overwritten", varMap(jobNamed(t, cfg, "duplicated-keys variables overwritten").Variables), map[string]string{"BAR": "2"})
	equalMap(t, "anchor", varMap(jobNamed(t, cfg, "duplicated-keys anchor tag can still be referenced").Variables), map[string]string{"BAR": "2", "FOO": "1"})
	equalMap(t, "merge", varMap(jobNamed(t, cfg, "duplicated-keys").Variables), map[string]string{"BAR": "2"})
}

func TestAnchorsAreShared(t *testing.T) {
	cfg := loadApp(t, `
.scripts:
  setup: &setup
    - echo setup
    - echo more
job:
  before_script: *setup
  script:
    - *setup
    - echo main
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	equalStrings(t, "before", texts(j.BeforeScript), []string{"echo setup", "echo more"})
	equalStrings(t, "script", texts(j.Script), []string{"echo setup", "echo more", "echo main"})
	if j.Script[0].Pos.Line != 4 {
		t.Errorf("aliased item at line %d, want 4 (where it is defined)", j.Script[0].Pos.Line)
	}
}

// Anchors do not cross files: an alias to an anchor of another file is a
// YAML error in the file that uses it.
func TestAnchorsDoNotCrossFiles(t *testing.T) {
	cfg := loadApp(t, `
include: ci/a.yml
job:
  script: *from_a
`, memFiles{app: {"ci/a.yml": ".a: &from_a [echo a]\n"}})
	d := requireDiag(t, cfg, diag.Error, "invalid YAML", "unknown anchor 'from_a'")
	if d.File != ".gitlab-ci.yml" || d.Line != 4 {
		t.Errorf("error at %s:%d, want .gitlab-ci.yml:4", d.File, d.Line)
	}
}

func TestRecursiveAlias(t *testing.T) {
	cfg := loadApp(t, "a: &a [x, *a]\njob: {script: [echo]}\n", nil)
	requireDiag(t, cfg, diag.Error)
	if len(cfg.Jobs) != 0 {
		t.Errorf("jobs from an invalid file: %v", jobNames(cfg))
	}
}

func TestMalformedYAMLNamesFileAndLine(t *testing.T) {
	cfg := loadApp(t, "include: ci/bad.yml\njob:\n  script: [echo]\n", memFiles{app: {"ci/bad.yml": "ok: 1\nbad:\n  - a\n  b: c\n"}})
	d := requireDiag(t, cfg, diag.Error, "invalid YAML")
	if d.Project != app || d.File != "ci/bad.yml" || d.Line != 4 {
		t.Errorf("diagnostic at %s/%s:%d, want g/app/ci/bad.yml:4: %s", d.Project, d.File, d.Line, d)
	}
	if d.Detail == "" {
		t.Errorf("no advice in %s", d)
	}
	// The rest of the configuration is still read.
	jobNamed(t, cfg, "job")
}

func TestNonMappingDocument(t *testing.T) {
	for _, doc := range []string{"- a\n- b\n", "just text\n", "!reference [.a]\n"} {
		cfg := loadApp(t, doc, nil)
		d := requireDiag(t, cfg, diag.Error, "invalid configuration format")
		if d.File != ".gitlab-ci.yml" {
			t.Errorf("%q: diagnostic names %q", doc, d.File)
		}
	}
}

func TestEmptyFile(t *testing.T) {
	cfg := loadApp(t, "# nothing here\n", nil)
	if len(cfg.Jobs) != 0 || cfg.Diags.HasErrors() {
		t.Fatalf("empty file: jobs %v diags %s", jobNames(cfg), diagText(cfg.Diags))
	}
	requireDiag(t, cfg, diag.Warning, "is empty")
	cfg = loadApp(t, "include: ci/empty.yml\njob: {script: [echo]}\n", memFiles{app: {"ci/empty.yml": "\n"}})
	d := requireDiag(t, cfg, diag.Error, "Included file `ci/empty.yml` is empty")
	if d.File != ".gitlab-ci.yml" || d.Line != 1 {
		t.Errorf("empty include reported at %s:%d, want the include line", d.File, d.Line)
	}
	jobNamed(t, cfg, "job")
}

// GitLab refuses unquoted dates (Psych DisallowedClass); the error says to
// quote, and the value is kept as text.
func TestUnquotedDateIsAnError(t *testing.T) {
	cfg := loadApp(t, "variables:\n  RELEASE: 2024-01-31\njob:\n  script: [echo]\n", nil)
	d := requireDiag(t, cfg, diag.Error, "Tried to load unspecified class: Date")
	if d.Detail != "quote the value" {
		t.Errorf("advice %q", d.Detail)
	}
	if d.Line != 2 {
		t.Errorf("line %d, want 2", d.Line)
	}
	equalMap(t, "vars", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{"RELEASE": "2024-01-31"})
}

func TestExplicitTags(t *testing.T) {
	cfg := loadApp(t, `
variables:
  STR: !!str 012
  INT: !!int "012"
  FLT: !!float 1
  BIN: !!binary aGVsbG8=
  ODD: !custom 012
job:
  script: [echo]
`, nil)
	requireClean(t, cfg)
	equalMap(t, "vars", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{
		"STR": "012", "INT": "10", "FLT": "1.0", "BIN": "hello", "ODD": "10",
	})
	requireDiag(t, cfg, diag.Warning, "YAML tag !custom")
}

// The header split is GitLab's regular expression, not a YAML stream: the
// first of two documents is the spec header, lines keep their numbers.
func TestHeaderSplit(t *testing.T) {
	tpl := "spec:\n  inputs:\n    who:\n      default: world\n---\njob:\n  script:\n    - echo hello $[[ inputs.who ]]\n"
	cfg := loadApp(t, tpl, nil)
	requireClean(t, cfg)
	s := jobNamed(t, cfg, "job").Script[0]
	if s.Text != "echo hello world" || s.Pos.Line != 8 {
		t.Errorf("script %q at line %d, want %q at 8", s.Text, s.Pos.Line, "echo hello world")
	}
	// A leading divider does not count as a document.
	cfg = loadApp(t, "---\njob:\n  script: [echo one]\n", nil)
	requireClean(t, cfg)
	if got := jobNamed(t, cfg, "job").Script[0].Pos.Line; got != 3 {
		t.Errorf("line %d, want 3", got)
	}
	// Three documents: GitLab takes the first as header and the last as
	// configuration.
	cfg = loadApp(t, "spec:\n  inputs: {}\n---\nignored:\n  script: [echo]\n---\nkept:\n  script: [echo]\n", nil)
	jobNamed(t, cfg, "kept")
	if len(cfg.Jobs) != 1 {
		t.Errorf("jobs %v, want only kept", jobNames(cfg))
	}
	requireDiag(t, cfg, diag.Warning, "more than 2 YAML documents")
}

// Script.Pos is where the text starts; LineStep says how the text's lines
// map to the file's.
func TestScriptPositions(t *testing.T) {
	cfg := loadApp(t, `job:
  script:
    - echo plain
    - |
      line one
      line two
    - >
      folded one
      folded two
    - "quoted"
    - echo multi
      line plain
    - "first\nsecond"
    - "quoted
      over lines"
    - 'single ''quoted''
      over lines'
    - "tab\there"
    - naïve ünïcode # comment
  after_script: echo single
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	want := []struct {
		text string
		line int
		step int
	}{
		{"echo plain", 3, 1},
		{"line one\nline two\n", 5, 1},
		{"folded one folded two\n", 8, 0},
		{"quoted", 10, 1},
		{"echo multi line plain", 11, 0},
		{"first\nsecond", 13, 0},
		{"quoted over lines", 14, 0},
		{"single 'quoted' over lines", 16, 0},
		{"tab\there", 18, 1},
		{"naïve ünïcode", 19, 1},
	}
	if len(j.Script) != len(want) {
		t.Fatalf("script items %q", texts(j.Script))
	}
	for i, w := range want {
		s := j.Script[i]
		if s.Text != w.text || s.Pos.Line != w.line || s.LineStep != w.step {
			t.Errorf("item %d = %q line %d step %d, want %q line %d step %d", i, s.Text, s.Pos.Line, s.LineStep, w.text, w.line, w.step)
		}
	}
	if l := j.Script[1].Line(1); l != 6 {
		t.Errorf("literal block second line maps to %d, want 6", l)
	}
	if l := j.Script[2].Line(1); l != 8 {
		t.Errorf("folded block maps to %d, want 8", l)
	}
	if s := j.AfterScript[0]; s.Text != "echo single" || s.Pos.Line != 20 || s.LineStep != 1 {
		t.Errorf("after_script %+v", s)
	}
}

// gitlab-ci-local fixture script-multidimension and its 10/11-level
// variants: nested arrays are flattened, more than 10 levels is GitLab's
// "nested array of strings up to 10 levels deep" error.
func TestScriptNesting(t *testing.T) {
	cfg := loadApp(t, "test-job:\n  script:\n    - - echo \"Test something\"\n    - - echo \"Test something else\"\n", nil)
	requireClean(t, cfg)
	equalStrings(t, "flattened", texts(jobNamed(t, cfg, "test-job").Script), []string{`echo "Test something"`, `echo "Test something else"`})

	deep := func(levels int) string {
		var b strings.Builder
		b.WriteString("test-job:\n  script:\n")
		for i := 1; i <= levels; i++ {
			b.WriteString("    " + strings.Repeat("- ", i) + "echo x\n")
		}
		return b.String()
	}
	cfg = loadApp(t, deep(10), nil)
	requireClean(t, cfg)
	if n := len(jobNamed(t, cfg, "test-job").Script); n != 10 {
		t.Errorf("10 levels: %d items, want 10", n)
	}
	cfg = loadApp(t, deep(11), nil)
	d := requireDiag(t, cfg, diag.Error, "up to 10 levels deep", "nesting too deep")
	if d.File != ".gitlab-ci.yml" || d.Line == 0 {
		t.Errorf("diagnostic place %s:%d", d.File, d.Line)
	}
}

func TestScriptItemMappingIsReported(t *testing.T) {
	cfg := loadApp(t, "job:\n  script:\n    - echo: oops\n    - echo fine\n", nil)
	requireDiag(t, cfg, diag.Error, "is a mapping")
	equalStrings(t, "script", texts(jobNamed(t, cfg, "job").Script), []string{"echo fine"})
}

// dividers is GitLab's /^---\s+/ written out; check it against the
// expression.
func TestDividersMatchGitLabRegexp(t *testing.T) {
	re := regexp.MustCompile(`(?m)^---[ \t\r\n\f\v]+`)
	inputs := []string{"", "---", "---\n", "--- \n", "a\n---\nb", "a---\nb", "----\n", "---x\n", "x\n--- y\n---\t\nz",
		"---\n---\n---\n", "  ---\n", "a\n---", "\n---\n\n\nb", "--\n---\r\nb"}
	for _, s := range inputs {
		var want [][2]int
		for _, m := range re.FindAllStringIndex(s, 2) {
			want = append(want, [2]int{m[0], m[1]})
		}
		if got := dividers(s, 2); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("dividers(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
