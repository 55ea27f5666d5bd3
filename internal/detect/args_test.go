package detect

import (
	"slices"
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
		if got := words(p.pos); !slices.Equal(got, tc.pos) {
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

func TestParseOpts(t *testing.T) {
	p := curlSpec.parse(plain("-sSfLo", "out.zip", "-HJOB-TOKEN: x", "--header", "A: b", "--data=k=v", "--", "-notanopt", "url"))
	if got := p.all("-o"); len(got) != 1 || got[0].Value != "out.zip" {
		t.Errorf("-o = %v", got)
	}
	if got := p.all("-H", "--header"); len(got) != 2 || got[0].Value != "JOB-TOKEN: x" || got[1].Value != "A: b" {
		t.Errorf("headers = %v", got)
	}
	if got, _ := p.last("--data"); got.Value != "k=v" {
		t.Errorf("--data = %v", got)
	}
	if !p.has("-s", "-L") || p.has("-X") {
		t.Errorf("flags wrong: %+v", p.opts)
	}
	if len(p.pos) != 2 || p.pos[0].Value != "-notanopt" {
		t.Errorf("positional = %v", p.pos)
	}
}

func TestArgvUnwrapsLaunchers(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"timeout", "60", "curl", "x"}, "curl"},
		{[]string{"sudo", "-E", "-u", "root", "helm", "repo"}, "helm"},
		{[]string{"env", "A=B", "C=D", "npm", "ci"}, "npm"},
		{[]string{"xargs", "-n1", "curl"}, "curl"},
		{[]string{"retry", "3", "curl"}, "curl"},
		{[]string{"sudo"}, "sudo"},
		{[]string{"curl"}, "curl"},
	} {
		if got := argv(&shell.Command{Args: plain(tc.in...)})[0].Value; got != tc.want {
			t.Errorf("argv(%v)[0] = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestArgSpecParse(t *testing.T) {
	args := []shell.Word{wd("--depth"), wd("1"), wd("-b=main"), wd("--recurse-submodules"), wd("https://h/a/b.git"), wd("dir")}
	p := cloneSpec.parse(args)
	if len(p.pos) != 2 || p.pos[0].Value != "https://h/a/b.git" || p.pos[1].Value != "dir" {
		t.Fatalf("pos = %+v", p.pos)
	}
	if v, ok := p.last("-b"); !ok || v.Value != "main" {
		t.Errorf("-b = %v %v", v, ok)
	}
	if !p.has("--recurse-submodules") {
		t.Error("--recurse-submodules missing")
	}
	run := dockerRunSpec.parse([]shell.Word{wd("-it"), wd("--rm"), wd("-e"), wd("A=1"), wd("--network=host"), wd("img:1"), wd("sh")})
	if len(run.pos) != 2 || run.pos[0].Value != "img:1" {
		t.Errorf("docker run operands = %+v", run.pos)
	}
	// "--" ends options; an empty list and a lone value option do not panic.
	if p := fetchSpec.parse([]shell.Word{wd("--"), wd("--weird")}); len(p.pos) != 1 {
		t.Errorf("-- handling: %+v", p.pos)
	}
	_ = fetchSpec.parse(nil)
	_ = fetchSpec.parse([]shell.Word{wd("--depth")})
}
