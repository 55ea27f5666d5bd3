package shell

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// renderSeen writes what a detector can see of the commands: words, the
// place, the section, the pipe, and variables looked up through each
// command's environment.
func renderSeen(cmds []*Command, names ...string) string {
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, "%s:%d %s %q stdin=%v", c.Pos.File, c.Pos.Line, c.Section, c.Name(), c.Stdin != nil)
		for _, w := range c.Args[1:] {
			fmt.Fprintf(&b, " %q", w.Value)
		}
		for _, n := range names {
			v, ok := c.Env.Get(n)
			fmt.Fprintf(&b, " %s=%q/%v", n, v, ok)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestProjectCacheSharesPrefixes(t *testing.T) {
	at := func(line int, sect, text string) Source {
		return Source{Text: text, Pos: loc.Pos{Project: "g/app", File: ".gitlab-ci.yml", Line: line}, LineStep: 1, Section: sect}
	}
	prefix := []Source{
		at(3, "before_script", "source lib.sh"),
		at(4, "before_script", `export URL="$CI_API_V4_URL/projects/$DEP/packages/generic/x/1/x.tgz"`),
		at(5, "before_script", `echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin "$CI_REGISTRY"`),
		at(6, "before_script", "printf 'curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" %s\\n' \"$URL\" > get.sh"),
	}
	job := func(script string) []Source {
		return append(append([]Source(nil), prefix...), at(9, "script", script))
	}
	files := map[string]string{"lib.sh": "fetch() { git clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/$1.git\"; }\n"}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("open %s: file does not exist", name)
	}
	base := map[string]string{"CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_REGISTRY": "registry.example.com", "CI_JOB_TOKEN": "[MASKED]", "DEP": "7", "OTHER": "a"}
	envs := []MapEnv{base, {}, {}, {}}
	for k, v := range base {
		envs[1][k], envs[2][k], envs[3][k] = v, v, v
	}
	envs[1]["OTHER"] = "b" // not read by the prefix: shares it
	envs[2]["DEP"] = "8"   // read by the prefix: analysed again
	delete(envs[3], "DEP") // unset: analysed again
	scripts := []string{"bash get.sh; fetch g/lib", "bash get.sh; fetch g/other", "bash get.sh", "fetch g/lib"}
	cache := NewProjectCache()
	for i, env := range envs {
		src := job(scripts[i])
		want := renderSeen(Analyze(src, env, Options{ReadFile: read}).Commands, "DEP", "OTHER", "URL")
		got := renderSeen(Analyze(src, env, Options{ReadFile: read, Cache: cache}).Commands, "DEP", "OTHER", "URL")
		if got != want {
			t.Errorf("job %d: with the cache\n%s\nwant\n%s", i, got, want)
		}
	}
	if n := len(cache.m); n != 1 {
		t.Fatalf("%d prefixes cached, want 1", n)
	}
	for _, es := range cache.m {
		if len(es) != 3 { // envs 0 and 1 share one; 2 and 3 read other values
			t.Errorf("%d readings of the prefix, want 3", len(es))
		}
	}
}
