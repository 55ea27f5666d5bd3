package detect

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// The option parser serves both getopt tools (curl, git) and pflag tools
// (docker, helm): stuck values, "-x=value", clusters ending in a value
// option.
func TestParseStuckAndClustered(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec optSpec
		args []string
		opt  string // option whose last value is checked
		val  string
		pos  []string
	}{
		{"docker run -p8080:80 keeps the image an operand", dockerRunSpec, []string{"-p8080:80", "-it", "img:1", "sh"}, "-p", "8080:80", []string{"img:1", "sh"}},
		{"docker run -e=A=1 (pflag)", dockerRunSpec, []string{"-e=A=1", "img"}, "-e", "A=1", []string{"img"}},
		{"docker run -dit cluster of flags", dockerRunSpec, []string{"-dit", "--name", "x", "img"}, "--name", "x", []string{"img"}},
		{"git clone -qb: the value option ends the cluster", cloneSpec, []string{"-qb", "main", "https://h/a/b.git"}, "-b", "main", []string{"https://h/a/b.git"}},
		{"git clone -j4", cloneSpec, []string{"-j4", "https://h/a/b.git", "dir"}, "-j", "4", []string{"https://h/a/b.git", "dir"}},
		{"curl -sSLo file", curlSpec, []string{"-sSLo", "out", "https://h/x"}, "-o", "out", []string{"https://h/x"}},
	} {
		var ws []shell.Word
		for _, a := range tc.args {
			ws = append(ws, wd(a))
		}
		p := tc.spec.parse(ws)
		if v, ok := p.last(tc.opt); !ok || v.Value != tc.val {
			t.Errorf("%s: %s = %q, %v; want %q", tc.name, tc.opt, v.Value, ok, tc.val)
		}
		if got := words(p.pos); !equal(got, tc.pos) {
			t.Errorf("%s: operands %q, want %q", tc.name, got, tc.pos)
		}
	}
}

// The raw text of a value given with its option is cut after the option
// when the option was written plainly: evidence shows the value as
// written.
func TestOptValueRaw(t *testing.T) {
	p := curlSpec.parse([]shell.Word{{Raw: `--url="${BASE}/x"`, Value: "--url=https://h/x"}, {Raw: `"--header=A: $B"`, Value: "--header=A: b"}})
	if u, _ := p.last("--url"); u.Raw != `"${BASE}/x"` || u.Value != "https://h/x" {
		t.Errorf("--url = %+v", u)
	}
	if h, _ := p.last("--header"); h.Raw != `"--header=A: $B"` || h.Value != "A: b" {
		t.Errorf("--header = %+v", h)
	}
}
