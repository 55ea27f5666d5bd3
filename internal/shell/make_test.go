package shell

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMake: make TARGET follows the recipe in the project's Makefile,
// with make variables and the job's variables. Shapes from public
// projects: a deps target downloading from another project's package
// registry, a release target calling the API, targets delegating with
// $(MAKE), variables set with ?= and overridden on the command line.
func TestMake(t *testing.T) {
	env := MapEnv{"CI_JOB_TOKEN": "[MASKED]", "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_DIR": "/builds/acme/app", "DEPS_VERSION": "2.0"}
	makefile := "# build helpers\n" +
		"REGISTRY_PROJECT ?= 42\n" +
		"DEPS_VERSION ?= 1.0\n" +
		"API := $(CI_API_V4_URL)/projects\n" +
		"PKG = $(API)/$(REGISTRY_PROJECT)/packages/generic/deps/$(DEPS_VERSION)\n" +
		".PHONY: deps release all\n" +
		"all: deps\n" +
		"\t@echo built\n" +
		"deps:\n" +
		"\t@curl --fail --header \"JOB-TOKEN: $${CI_JOB_TOKEN}\" \\\n" +
		"\t  -o deps.tgz \"$(PKG)/deps.tgz\"\n" +
		"release: all\n" +
		"\t$(MAKE) -C tools publish\n"
	files := map[string]string{
		"Makefile":       makefile,
		"tools/Makefile": "publish:\n\tcurl -X POST -H \"JOB-TOKEN: $$CI_JOB_TOKEN\" \"$$CI_API_V4_URL/projects/7/releases\"\n",
		"other.mk":       "x: ; curl -H \"JOB-TOKEN: $(CI_JOB_TOKEN)\" https://gitlab.example.com/api/v4/projects/$(ID)/jobs\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"named target, ?= keeps the job variable", "make deps",
			[]string{`10: curl --fail --header "JOB-TOKEN: [MASKED]" -o deps.tgz https://gitlab.example.com/api/v4/projects/42/packages/generic/deps/2.0/deps.tgz`}},
		{"command-line variable wins", "make REGISTRY_PROJECT=77 deps",
			[]string{`10: curl --fail --header "JOB-TOKEN: [MASKED]" -o deps.tgz https://gitlab.example.com/api/v4/projects/77/packages/generic/deps/2.0/deps.tgz`}},
		{"default target runs prerequisites", "make",
			[]string{`10: curl --fail --header "JOB-TOKEN: [MASKED]" -o deps.tgz https://gitlab.example.com/api/v4/projects/42/packages/generic/deps/2.0/deps.tgz`}},
		{"$(MAKE) -C dir delegates", "make release",
			[]string{`10: curl --fail --header "JOB-TOKEN: [MASKED]" -o deps.tgz https://gitlab.example.com/api/v4/projects/42/packages/generic/deps/2.0/deps.tgz`,
				`2: curl -X POST -H "JOB-TOKEN: [MASKED]" https://gitlab.example.com/api/v4/projects/7/releases`}},
		{"-f file, inline recipe, unknown variable stays unknown", "make -f other.mk x",
			[]string{`1: curl -H "JOB-TOKEN: [MASKED]" https://gitlab.example.com/api/v4/projects/${ID}/jobs?{ID}`}},
		{"unknown target: nothing", "make $TARGET", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(script(tt.src), env, Options{ReadFile: read})
			var got []string
			for _, c := range r.Commands {
				if c.Name() == "curl" {
					got = append(got, render(c))
				}
			}
			if !slices.Equal(got, tt.want) || len(r.Diags) > 0 {
				t.Errorf("got  %q\nwant %q\ndiags %v", got, tt.want, r.Diags)
			}
		})
	}
	// Positions name the Makefile.
	r := Analyze(script("make deps"), env, Options{ReadFile: read})
	for _, c := range r.Commands {
		if c.Name() == "curl" && (c.Pos.File != "Makefile" || c.Pos.Line != 10) {
			t.Errorf("curl at %v, want Makefile:10", c.Pos)
		}
	}
}

// TestMakeBounded: recursive make and many recipes stay cheap.
func TestMakeBounded(t *testing.T) {
	files := map[string]string{"Makefile": "a: b\n\t$(MAKE) a\nb: a\n\techo b\n"}
	read := func(name string) ([]byte, error) { return []byte(files[name]), nil }
	r := Analyze(script("make a"), nil, Options{ReadFile: read})
	if len(r.Commands) > 200 {
		t.Errorf("%d commands", len(r.Commands))
	}
}

// TestHostileMakeAndPowerShell: doubling make variables and deeply nested
// PowerShell expressions end quickly.
func TestHostileMakeAndPowerShell(t *testing.T) {
	var mk strings.Builder
	mk.WriteString("V0 = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&mk, "V%d = $(V%d)$(V%d)\n", i, i-1, i-1)
	}
	mk.WriteString("t:\n\techo $(V39)\n")
	read := func(string) ([]byte, error) { return []byte(mk.String()), nil }
	start := time.Now()
	Analyze(script("make t"), nil, Options{ReadFile: read})
	deep := "$x = " + strings.Repeat("@{ a = ", 5000) + strings.Repeat("}", 5000) + "\n" +
		"Invoke-RestMethod -Uri " + strings.Repeat("(", 5000) + "'https://h'" + strings.Repeat(")", 5000) + "\n" +
		"Write-Host \"$(" + strings.Repeat("$(", 5000) + "\n"
	Analyze(script(deep), nil, Options{})
	nested := strings.Repeat("foreach ($x in 'a','b','c','d','e','f','g','h') {\n", 12) + "git clone \"https://h/$x.git\"\n" + strings.Repeat("}\n", 12)
	if r := Analyze(script(nested), nil, Options{}); len(r.Commands) > 5000 {
		t.Errorf("nested foreach: %d commands", len(r.Commands))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
