package cli_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/report"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// memRepos are repository files in memory, by project.
type memRepos map[string]map[string]string

func (m memRepos) ReadFile(project, name string) ([]byte, error) {
	if s, ok := m[project][name]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func (m memRepos) Glob(project, pattern string) ([]string, error) {
	var out []string
	for name := range m[project] {
		if ok, _ := path.Match(pattern, name); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m memRepos) HasFiles(project string) bool { _, ok := m[project]; return ok }

const componentPath = "templates/tokenscope-audit/template.yml"

// loadComponent includes the component as a user's pipeline does, with
// inputs, and loads it with tokenscope's own CI loader (GitLab's include,
// spec:inputs and $[[ inputs ]] semantics).
func loadComponent(t *testing.T, inputs string) *ciconfig.Config {
	t.Helper()
	tpl, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(componentPath)))
	if err != nil {
		t.Fatal(err)
	}
	ci := "include:\n  - component: $CI_SERVER_FQDN/tools/tokenscope/tokenscope-audit@1.0.0\n" + inputs + "stages: [test, audit]\n"
	files := memRepos{
		"tools/tokenscope": {componentPath: string(tpl)},
		"ops/audit":        {".gitlab-ci.yml": ci},
	}
	return ciconfig.Load("ops/audit", ".gitlab-ci.yml", ciconfig.Options{Files: files,
		Vars: map[string]string{"CI_SERVER_FQDN": "gitlab.example.com", "CI_SERVER_HOST": "gitlab.example.com", "CI_PROJECT_PATH": "ops/audit"}})
}

func scriptText(j ciconfig.Job) string {
	var b strings.Builder
	for _, s := range j.Script {
		b.WriteString(s.Text + "\n")
	}
	return b.String()
}

func jobVar(j ciconfig.Job, name string) string {
	for _, v := range j.Variables {
		if v.Name == name {
			return v.Value
		}
	}
	return "<unset>"
}

func TestComponentLoadsWithInputs(t *testing.T) {
	cfg := loadComponent(t, "    inputs:\n      groups: \"apps platform\"\n      fail-on: review,stale\n      stage: audit\n      report-path: public-report\n      image: registry.example.com/tools/tokenscope:v1\n      pages: true\n")
	if cfg.Diags.HasErrors() {
		t.Fatalf("the component does not load:\n%v", cfg.Diags)
	}
	var names []string
	for _, j := range cfg.Jobs {
		names = append(names, j.Name)
	}
	if !slices.Equal(names, []string{"pages", "tokenscope-audit"}) {
		t.Fatalf("jobs %v", names)
	}
	audit := cfg.Jobs[1]
	if audit.Image == nil || audit.Image.Name != "registry.example.com/tools/tokenscope:v1" {
		t.Errorf("image %+v: the image input", audit.Image)
	}
	for name, want := range map[string]string{"TOKENSCOPE_GROUPS": "apps platform", "TOKENSCOPE_FAIL_ON": "review,stale",
		"TOKENSCOPE_TRUST": "trust.yaml", "TOKENSCOPE_REPORT": "public-report", "GITLAB_URL": "$CI_SERVER_URL"} {
		if got := jobVar(audit, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	script := scriptText(audit)
	for _, want := range []string{
		`tokenscope snapshot --gitlab "$GITLAB_URL" $GROUP_FLAGS -o tokenscope-snapshot`,
		`tokenscope audit tokenscope-snapshot --trust "$TOKENSCOPE_TRUST" --fail-on "$TOKENSCOPE_FAIL_ON" --format codequality -o gl-code-quality-report.json`,
		`tokenscope report tokenscope-snapshot --trust "$TOKENSCOPE_TRUST" -o "$TOKENSCOPE_REPORT"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	// The last command decides the job: the audit's own exit code.
	if last := audit.Script[len(audit.Script)-1].Text; !strings.HasPrefix(last, "tokenscope audit ") || strings.Contains(last, "|| true") {
		t.Errorf("the job's result must be the audit's exit code; last line %q", last)
	}
	// Every format the script asks for exists.
	for _, m := range regexp.MustCompile(`--format (\S+)`).FindAllStringSubmatch(script, -1) {
		if !slices.Contains(report.AuditFormats, m[1]) {
			t.Errorf("the script asks for --format %s, which audit does not have", m[1])
		}
	}
	// GitLab Runner runs the script items in one sh: they must parse as sh.
	if sh, err := exec.LookPath("sh"); err == nil {
		for _, j := range cfg.Jobs {
			if out, err := exec.Command(sh, "-n", "-c", scriptText(j)).CombinedOutput(); err != nil {
				t.Errorf("%s: the script is not sh: %v\n%s", j.Name, err, out)
			}
		}
	} else {
		t.Log("no sh here: the script's syntax is not checked")
	}
	if !strings.Contains(scriptText(cfg.Jobs[0]), `cp -R "$TOKENSCOPE_REPORT" public`) {
		t.Errorf("pages job script:\n%s", scriptText(cfg.Jobs[0]))
	}
}

func TestComponentRequiresGroups(t *testing.T) {
	cfg := loadComponent(t, "")
	if !cfg.Diags.HasErrors() || !strings.Contains(diagStrings(cfg.Diags), "groups") {
		t.Errorf("groups is required; diagnostics:\n%s", diagStrings(cfg.Diags))
	}
	cfg = loadComponent(t, "    inputs:\n      groups: apps\n      pages: maybe\n")
	if !cfg.Diags.HasErrors() {
		t.Error("pages is a boolean input")
	}
}

func diagStrings(ds diag.List) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// The keys the CI loader does not model: the Code Quality report artifact,
// artifacts kept when the audit fails, and the inputs the issue asks for.
func TestComponentReportsAndInputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(componentPath)))
	if err != nil {
		t.Fatal(err)
	}
	header, body, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok {
		t.Fatal("a component's spec ends with ---")
	}
	var spec struct {
		Spec struct {
			Inputs map[string]struct {
				Default     any    `yaml:"default"`
				Type        string `yaml:"type"`
				Description string `yaml:"description"`
			} `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(header, &spec); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"trust", "groups", "fail-on", "report-path", "stage", "image", "pages"} {
		if i, ok := spec.Spec.Inputs[in]; !ok || i.Description == "" {
			t.Errorf("input %s missing or undocumented", in)
		}
	}
	var jobs map[string]struct {
		Artifacts struct {
			When    string            `yaml:"when"`
			Paths   []string          `yaml:"paths"`
			Reports map[string]string `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	if err := yaml.Unmarshal(body, &jobs); err != nil {
		t.Fatal(err)
	}
	a := jobs["tokenscope-audit"].Artifacts
	if a.Reports["codequality"] != "gl-code-quality-report.json" || a.When != "always" || !slices.Contains(a.Paths, "$[[ inputs.report-path ]]/") {
		t.Errorf("artifacts %+v", a)
	}
	if !slices.Contains(jobs["pages"].Artifacts.Paths, "public") {
		t.Error("Pages publishes public/")
	}
}

// Docker cannot run here, so the Dockerfile is checked at the syntax
// level: known instructions, a build stage and a minimal final stage, a
// static binary, a non-root user.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	known := []string{"FROM", "RUN", "COPY", "WORKDIR", "ARG", "ENV", "USER", "ENTRYPOINT", "CMD", "LABEL", "EXPOSE"}
	var stages []string
	var user, final string
	static := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	cont := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cont {
			cont = strings.HasSuffix(line, `\`)
			if strings.Contains(line, "CGO_ENABLED=0") {
				static = true
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cont = strings.HasSuffix(line, `\`)
		instr, args, _ := strings.Cut(line, " ")
		if !slices.Contains(known, instr) {
			t.Errorf("Dockerfile:%d: unknown instruction %q", n, instr)
		}
		switch instr {
		case "FROM":
			stages = append(stages, args)
			final, user = args, ""
		case "USER":
			user = args
		case "RUN":
			if strings.Contains(args, "CGO_ENABLED=0") {
				static = true
			}
		}
	}
	if len(stages) < 2 || !strings.Contains(stages[0], " AS ") {
		t.Errorf("stages %q: want a named build stage and a final one", stages)
	}
	if strings.Contains(final, "golang") {
		t.Errorf("final stage %q carries the toolchain", final)
	}
	if !static {
		t.Error("the binary is not built with CGO_ENABLED=0")
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
}
