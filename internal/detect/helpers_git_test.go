package detect

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

const tok = inventory.JobToken

// wd builds a word: as written, and expanded (defaults to as written).
func wd(raw string, value ...string) shell.Word {
	w := shell.Word{Raw: raw, Value: raw}
	if len(value) > 0 {
		w.Value = value[0]
	}
	return w
}

// cmdAt builds a command at .gitlab-ci.yml:line from plain words.
func cmdAt(line int, words ...string) *shell.Command {
	c := &shell.Command{Pos: shell.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: line}, Section: "script"}
	for _, w := range words {
		c.Args = append(c.Args, wd(w))
	}
	return c
}

func testInput(cmds ...*shell.Command) *Input {
	p := &inventory.Project{Path: "apps/web", ID: 301}
	env := shell.MapEnv(inventory.Predefined(testServer, p))
	for _, c := range cmds {
		if c.Env == nil {
			c.Env = env
		}
	}
	return &Input{Caller: p, Server: testServer, Job: &ciconfig.Job{Name: "build"}, Env: env, Commands: cmds}
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

func TestCommandOutputAndWrites(t *testing.T) {
	in := testInput()
	echo := cmdAt(1, "echo", "-e", `"machine h\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}"`)
	echo.Args[2].Value = "machine h\\nlogin gitlab-ci-token\\npassword " + tok
	echo.Redirects = []shell.Redirect{{Op: ">", Target: wd("~/.netrc")}}
	ws := in.commandWrites(echo, nil, nil)
	if len(ws) != 1 || ws[0].path != "~/.netrc" || !ws[0].known || ws[0].append {
		t.Fatalf("writes = %+v", ws)
	}
	if want := "machine h\nlogin gitlab-ci-token\npassword " + tok + "\n"; ws[0].out.value != want {
		t.Errorf("echo -e output = %q, want %q", ws[0].out.value, want)
	}
	pf := cmdAt(1, "printf", `'machine %s login %s password %s\n'`, "h", "gitlab-ci-token", "x")
	pf.Args[1].Value = `machine %s login %s password %s\n`
	if o, _ := in.commandOutput(pf, nil); o.value != "machine h login gitlab-ci-token password x\n" {
		t.Errorf("printf = %q", o.value)
	}
	// tee -a fed by a pipe.
	tee := cmdAt(2, "tee", "-a", "/root/.netrc")
	tee.Stdin = cmdAt(2, "echo", "machine h")
	ws = in.commandWrites(tee, nil, nil)
	if len(ws) != 1 || !ws[0].append || ws[0].out.value != "machine h\n" {
		t.Errorf("tee writes = %+v", ws)
	}
	// A quoted here-document keeps the variable text.
	cat := cmdAt(3, "cat")
	cat.Redirects = []shell.Redirect{{Op: ">", Target: wd("/root/.docker/config.json")},
		{Op: "<<", Target: wd("'JSON'"), Heredoc: &shell.Word{Raw: `{"auths":{"r":{"auth":"${CI_JOB_TOKEN}"}}}`, Value: `{"auths":{"r":{"auth":"${CI_JOB_TOKEN}"}}}`}}}
	if o, ok := in.commandOutput(cat, nil); !ok || !literalTokenRef(o.value) {
		t.Errorf("heredoc output = %+v %v", o, ok)
	}
	if commandOutputOK(in, cmdAt(1, "printf")) || commandOutputOK(in, &shell.Command{Args: []shell.Word{wd("cat"), wd("file")}}) {
		t.Error("unknown output reported as known")
	}
}

func commandOutputOK(in *Input, c *shell.Command) bool { _, ok := in.commandOutput(c, nil); return ok }

func TestClassifyUserPass(t *testing.T) {
	for _, tc := range []struct {
		user, pass string
		want       credKind
	}{
		{"gitlab-ci-token", tok, credJobToken},
		{"oauth2", tok, credWrongUser},                      // trap §3.3
		{"__token__", tok, credWrongUser},                   // trap §3.3
		{tok, "", credWrongUser},                            // token as user name
		{"gitlab-ci-token", "${CI_JOB_TOKEN}", credLiteral}, // single-quoted
		{"oauth2", "${GL_TOKEN}", credOther},                // PAT
		{"deployer", "gldt-abc", credOther},                 // deploy token
		{"", "", credNone},
	} {
		if got := classifyUserPass(tc.user, tc.pass); got.kind != tc.want {
			t.Errorf("classifyUserPass(%q, %q) = %v, want %v", tc.user, tc.pass, got.kind, tc.want)
		}
	}
}

func TestParseNetrc(t *testing.T) {
	got := netrcCreds("machine git.example.org\nlogin gitlab-ci-token\npassword "+tok+"\nmachine github.com login x password y\n", shell.Pos{File: "f", Line: 3})
	if got["git.example.org"].kind != credJobToken || got["github.com"].kind != credOther {
		t.Fatalf("netrcCreds = %+v", got)
	}
	if !strings.Contains(got["git.example.org"].via, "f:3") {
		t.Errorf("via = %q", got["git.example.org"].via)
	}
	// One-line form with a literal \n (echo without -e), and a port.
	got = netrcCreds(`machine git.example.org:443\nlogin gitlab-ci-token\npassword `+tok, shell.Pos{})
	if got["git.example.org"].kind != credJobToken {
		t.Errorf("one-line netrc = %+v", got)
	}
	if len(netrcCreds("machine", shell.Pos{})) != 0 || len(netrcCreds("", shell.Pos{})) != 0 {
		t.Error("truncated netrc yields credentials")
	}
}

func TestGitRewrite(t *testing.T) {
	var g gitCfg
	g.helpers = map[string]cred{}
	g.set(testServer, opSet, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "https://git.example.org/", shell.Pos{})
	g.set(testServer, opAdd, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "git@git.example.org:", shell.Pos{})
	for in, want := range map[string]string{
		"https://git.example.org/a/b.git": "https://gitlab-ci-token:" + tok + "@git.example.org/a/b.git",
		"git@git.example.org:a/b.git":     "https://gitlab-ci-token:" + tok + "@git.example.org/a/b.git",
		"https://github.com/a/b.git":      "https://github.com/a/b.git",
	} {
		if got, _ := g.rewrite(in, false); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	// Unset removes every value of the key (set-then-unset trap, P05).
	g.set(testServer, opUnset, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "", shell.Pos{})
	if len(g.rules) != 0 {
		t.Errorf("rules after unset = %+v", g.rules)
	}
	if k, _ := g.set(testServer, opSet, "url.https://oauth2:"+tok+"@github.com/.insteadOf", "https://github.com/", shell.Pos{}); k != use.OtherHost {
		t.Errorf("token to github.com: note %q, want other-host", k)
	}
	if k, _ := g.set(testServer, opSet, "url.https://oauth2:"+tok+"@git.example.org/.insteadOf", "https://git.example.org/", shell.Pos{}); k != use.WontWork {
		t.Errorf("oauth2 user: note %q, want will-not-work", k)
	}
}

func TestResolveRelativeURL(t *testing.T) {
	base := "https://gitlab-ci-token:" + tok + "@git.example.org/grp/sub/proj.git"
	for rel, want := range map[string]string{
		"../x.git":            "https://gitlab-ci-token:" + tok + "@git.example.org/grp/sub/x.git",
		"../../x.git":         "https://gitlab-ci-token:" + tok + "@git.example.org/grp/x.git",
		"../../grp2/y.git":    "https://gitlab-ci-token:" + tok + "@git.example.org/grp/grp2/y.git",
		"../../../grp2/y.git": "https://gitlab-ci-token:" + tok + "@git.example.org/grp2/y.git",
		"./z.git":             base + "/z.git",
		"../../../../x.git":   "",
	} {
		got, ok := resolveRelativeURL(base, rel)
		if got != want || ok != (want != "") {
			t.Errorf("resolveRelativeURL(%q) = %q, %v; want %q", rel, got, ok, want)
		}
	}
	if got, _ := resolveRelativeURL("git@git.example.org:grp/proj.git", "../lib.git"); got != "git@git.example.org:grp/lib.git" {
		t.Errorf("scp-like: %q", got)
	}
}

func TestParseGitmodulesAndFilter(t *testing.T) {
	mods := parseGitmodules([]byte("[submodule \"protos\"]\n\tpath = protos\n\turl = ../../libs/shared-protos.git\n# comment\n[submodule \"vendor/fmt\"]\n\tpath = vendor/fmt\n\turl = https://github.com/fmtlib/fmt.git\n[core]\n\turl = nope\n"))
	want := []gitmodule{{"protos", "protos", "../../libs/shared-protos.git", 3}, {"vendor/fmt", "vendor/fmt", "https://github.com/fmtlib/fmt.git", 7}}
	if !reflect.DeepEqual(mods, want) {
		t.Fatalf("parseGitmodules = %+v", mods)
	}
	f := pathFilter("protos vendor :(exclude)vendor/fmt")
	if !f("protos") || f("vendor/fmt") || !f("vendor/x") || f("other") {
		t.Error("pathFilter wrong")
	}
	if !pathFilter("")("anything") {
		t.Error("empty filter must keep everything")
	}
}

func TestParseAuthJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    output
		host string
		want credKind
		ok   bool
	}{
		{"username/password", output{value: `{"auths":{"registry.example.org":{"username":"gitlab-ci-token","password":"` + tok + `"}}}`}, "registry.example.org", credJobToken, true},
		{"base64 literal PAT", output{value: `{"auths":{"https://registry.example.org":{"auth":"ZGVwbG95OnNlY3JldA=="}}}`}, "registry.example.org", credOther, true},
		{"computed auth (P15)", output{value: `{"auths":{"registry.example.org":{"auth":"$(printf '%s:%s' gitlab-ci-token ` + tok + ` | base64)"}}}`,
			raw: `"{\"auths\":{\"${CI_REGISTRY}\":{\"auth\":\"$(printf \"%s:%s\" \"${CI_REGISTRY_USER}\" \"${CI_REGISTRY_PASSWORD}\" | base64)\"}}}"`, substituted: true}, "registry.example.org", credJobToken, true},
		{"quoted heredoc (trap)", output{value: `{"auths":{"registry.example.org":{"auth":"${CI_JOB_TOKEN}"}}}`}, "registry.example.org", credLiteral, true},
		{"unescaped quotes (trap)", output{value: `{auths:{registry.example.org:{username:gitlab-ci-token,password:` + tok + `}}}`}, "", credNone, false},
	} {
		got, ok := parseAuthJSON(tc.o, shell.Pos{})
		if ok != tc.ok || got[tc.host].kind != tc.want {
			t.Errorf("%s: parseAuthJSON = %+v, %v", tc.name, got, ok)
		}
	}
}

func TestClassifyImage(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		kind imageKind
		path string
	}{
		{"registry.example.org/platform/ci-images/builder:1.4", imgRegistry, "platform/ci-images/builder"},
		{"registry.example.org:443/lib/test-utils/runner:latest", imgRegistry, "lib/test-utils/runner"},
		{"git.example.org/infra/dependency_proxy/containers/debian:stable", imgProxy, "infra"},
		{"git.example.org:443/infra/dependency_proxy/containers/debian:stable", imgProxy, "infra"},
		{"docker:27-dind", imgOther, ""},
		{"ghcr.io/a/b:1", imgOther, ""},
		{"${CI_REGISTRY}/platform/x:1", imgUnknown, "platform/x"},
		{"localhost/platform/x", imgOther, ""},
		{"", imgOther, ""},
	} {
		im := classifyImage(testServer, tc.ref)
		if im.kind != tc.kind || tc.path != "" && im.path != tc.path {
			t.Errorf("classifyImage(%q) = %+v", tc.ref, im)
		}
	}
}

func TestDockerfileStages(t *testing.T) {
	df := parseDockerfile([]byte(`# syntax=docker/dockerfile:1
ARG CI_REGISTRY=localhost
ARG BASE_TAG=latest
FROM --platform=$BUILDPLATFORM ${CI_REGISTRY}/platform/base/jre:${BASE_TAG} AS build
RUN --mount=type=cache,target=/root/.m2 \
    mvn package
FROM registry.example.org/tools/linter:1 AS lint
FROM build AS runtime
COPY --from=registry.example.org/platform/assets:2 /a /b
COPY --from=build /x /y
`))
	if len(df.instrs) != 8 || df.instrs[2].line != 4 || df.instrs[3].cmd != "RUN" || df.instrs[3].line != 5 {
		t.Fatalf("instructions = %+v", df.instrs)
	}
	stages := df.stages(map[string]shell.Word{"CI_REGISTRY": wd("$CI_REGISTRY", "registry.example.org")})
	if len(stages) != 3 || stages[0].images[0].value != "registry.example.org/platform/base/jre:latest" {
		t.Fatalf("stages = %+v", stages)
	}
	if got := neededStages(stages, "", false); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("BuildKit stages = %v, want [0 2] (lint is unused)", got)
	}
	if got := neededStages(stages, "lint", true); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Errorf("kaniko stages up to lint = %v", got)
	}
	// Without the build-arg the ARG default (localhost) applies: the trap.
	if s := df.stages(nil); s[0].images[0].value != "localhost/platform/base/jre:latest" {
		t.Errorf("default ARG: %+v", s[0].images)
	}
	if got := dfExpand("${A:-x}/${B:+y}/$C/${D-z}", map[string]string{"B": "1", "C": "c"}); got != "x/y/c/z" {
		t.Errorf("dfExpand = %q", got)
	}
	if len(parseDockerfile(nil).instrs) != 0 || len(parseDockerfile([]byte("FROM")).stages(nil)) != 0 {
		t.Error("empty Dockerfile")
	}
}

func TestGoRequiresAndVCSURL(t *testing.T) {
	reqs := goRequires("module x\n\nrequire git.example.org/platform/gokit v1.2.0\nrequire (\n\tgithub.com/a/b v1.0.0 // indirect\n\tgit.example.org/platform/auth/v2 v2.0.1\n)\n")
	want := []goRequire{{"git.example.org/platform/gokit", "v1.2.0", 3}, {"github.com/a/b", "v1.0.0", 5}, {"git.example.org/platform/auth/v2", "v2.0.1", 6}}
	if !reflect.DeepEqual(reqs, want) {
		t.Errorf("goRequires = %+v", reqs)
	}
	for in, want := range map[string]string{
		"https://gitlab-ci-token:x@git.example.org/data/parser.git@main": "https://gitlab-ci-token:x@git.example.org/data/parser.git",
		"https://git.example.org/ui/widget.git#lib":                      "https://git.example.org/ui/widget.git",
		"ssh://git@git.example.org/a/b.git@v1#egg=b":                     "ssh://git@git.example.org/a/b.git",
	} {
		if got := vcsURL(in); got != want {
			t.Errorf("vcsURL(%q) = %q", in, got)
		}
	}
}

// render turns uses and notes into compact lines for comparison:
// "repository-read path=platform/x .gitlab-ci.yml:3" and
// "will-not-work .gitlab-ci.yml:4".
func render(out *Output) (uses, notes []string) {
	for _, u := range out.Uses {
		s := string(u.Access) + " " + string(u.Target.Kind) + "=" + u.Target.Value + " " + u.Evidence.File + ":" + itoa(u.Evidence.Line)
		if u.Target.Reason != "" {
			s += " (unresolved)"
		}
		uses = append(uses, s)
	}
	for _, n := range out.Notes {
		notes = append(notes, string(n.Kind)+" "+n.File+":"+itoa(n.Line))
	}
	return uses, notes
}

func TestDetectorsOnBuiltCommands(t *testing.T) {
	clone := func(line int, url string, value string) *shell.Command {
		c := cmdAt(line, "git", "clone")
		c.Args = append(c.Args, wd(url, value))
		return c
	}
	tokURL := func(user, hostPath string) string { return "https://" + user + ":" + tok + "@" + hostPath }
	for _, tc := range []struct {
		name        string
		det         Detector
		cmds        []*shell.Command
		uses, notes []string
	}{
		{"P01 literal token URL", gitDetector{},
			[]*shell.Command{clone(3, `https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git`, tokURL("gitlab-ci-token", "git.example.org/acme/tools/helpers.git"))},
			[]string{"repository-read path=acme/tools/helpers .gitlab-ci.yml:3"}, nil},
		{"P03 own project is a use the graph turns into a note", gitDetector{},
			[]*shell.Command{clone(3, `x`, tokURL("gitlab-ci-token", "git.example.org/apps/web.git"))},
			[]string{"repository-read path=apps/web .gitlab-ci.yml:3"}, nil},
		{"trap oauth2 user", gitDetector{},
			[]*shell.Command{clone(4, `x`, tokURL("oauth2", "git.example.org/apps/api.git"))},
			nil, []string{"will-not-work .gitlab-ci.yml:4"}},
		{"trap token to github.com", gitDetector{},
			[]*shell.Command{clone(5, `x`, tokURL("x-access-token", "github.com/acme/public-data.git"))},
			nil, []string{"other-host .gitlab-ci.yml:5"}},
		{"trap deploy token", gitDetector{},
			[]*shell.Command{clone(6, `x`, "https://deployer:gldt-secret@git.example.org/infra/charts.git")},
			nil, []string{"not-a-job-token-edge .gitlab-ci.yml:6"}},
		{"unknown path is unresolved", gitDetector{},
			[]*shell.Command{clone(7, `x`, tokURL("gitlab-ci-token", "git.example.org/${FIXTURES_REPO}.git"))},
			[]string{"repository-read path=${FIXTURES_REPO} .gitlab-ci.yml:7 (unresolved)"}, nil},
		{"P11 push to another project", gitDetector{},
			[]*shell.Command{{Args: []shell.Word{wd("git"), wd("push"), wd("x", tokURL("gitlab-ci-token", "git.example.org/releases/bin-drop.git")), wd("HEAD:main")},
				Pos: shell.Pos{File: ".gitlab-ci.yml", Line: 8}}},
			[]string{"repository-write path=releases/bin-drop .gitlab-ci.yml:8"}, []string{"will-not-work .gitlab-ci.yml:8"}},
		{"P06 netrc then plain clone", gitDetector{},
			[]*shell.Command{
				{Args: []shell.Word{wd("echo"), wd("x", "machine git.example.org login gitlab-ci-token password "+tok)},
					Redirects: []shell.Redirect{{Op: ">", Target: wd("~/.netrc")}}, Pos: shell.Pos{File: ".gitlab-ci.yml", Line: 2}},
				clone(3, "https://git.example.org/acme/lib.git", "https://git.example.org/acme/lib.git"),
				{Args: []shell.Word{wd("rm"), wd("-f"), wd("~/.netrc")}, Pos: shell.Pos{File: ".gitlab-ci.yml", Line: 4}},
				clone(5, "https://git.example.org/acme/other.git", "https://git.example.org/acme/other.git")},
			[]string{"repository-read path=acme/lib .gitlab-ci.yml:3"}, nil},
		{"P12 image from another project, services from Docker Hub", registryDetector{}, nil,
			[]string{"container-read image=platform/ci-images/builder .gitlab-ci.yml:1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(tc.cmds...)
			if tc.name[:3] == "P12" {
				in.Job.Image = &ciconfig.Image{Name: "registry.example.org/platform/ci-images/builder:1.4", Pos: ciconfig.Pos{File: ".gitlab-ci.yml", Line: 1}}
				in.Job.Services = []ciconfig.Image{{Name: "docker:27-dind", Pos: ciconfig.Pos{File: ".gitlab-ci.yml", Line: 2}}}
			}
			out := &Output{}
			tc.det.Detect(in, out)
			uses, notes := render(out)
			if !reflect.DeepEqual(uses, tc.uses) || !reflect.DeepEqual(notes, tc.notes) {
				t.Errorf("uses = %q\nnotes = %q\nwant uses %q\nnotes %q", uses, notes, tc.uses, tc.notes)
			}
			for _, u := range out.Uses {
				if strings.Contains(u.Evidence.Detail, tok) || strings.Contains(u.Target.Reference, tok) {
					t.Errorf("marker leaked in %+v", u)
				}
			}
			for _, n := range out.Notes {
				if strings.Contains(n.Detail, tok) {
					t.Errorf("marker leaked in %+v", n)
				}
			}
		})
	}
}

// Fuzz targets: the parsers of repository files and URLs must never panic
// or hang on hostile input. Their seed corpora run in go test.

func FuzzParseDockerfile(f *testing.F) {
	for _, s := range []string{"FROM a\n", "ARG X=${Y:-z}\nFROM ${X} AS b\nCOPY --from=b /a /b\n", "FROM \\\n", "RUN <<EOF\nx\n", "# escape=`\nFROM a `\n b", "FROM ${", "COPY --from= x"} {
		f.Add(s, "ARGV=1")
	}
	f.Fuzz(func(t *testing.T, s, arg string) {
		df := parseDockerfile([]byte(s))
		k, v, _ := strings.Cut(arg, "=")
		stages := df.stages(map[string]shell.Word{k: wd(v)})
		for _, i := range neededStages(stages, v, len(s)%2 == 0) {
			if i < 0 || i >= len(stages) {
				t.Fatalf("stage index %d out of range", i)
			}
		}
		for _, in := range df.instrs {
			_ = runScript(in)
		}
	})
}

func FuzzGitParsers(f *testing.F) {
	for _, s := range []string{"../../x.git", "./a", "https://h/a/b.git", "git@h:a/b", "[submodule \"x\"]\nurl = ../y\n", "machine h login u password p", `{"auths":{"h":{"auth":"eDp5"}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, ok := resolveRelativeURL("https://gitlab-ci-token:"+tok+"@git.example.org/a/b/c.git", s); ok && !strings.HasPrefix(r, "https://gitlab-ci-token:"+tok+"@git.example.org") {
			t.Fatalf("relative URL %q escaped the host: %q", s, r)
		}
		_ = parseGitmodules([]byte(s))
		_ = netrcCreds(s, shell.Pos{})
		_ = parseGitCredentials(s, shell.Pos{})
		_, _ = parseAuthJSON(output{value: s, raw: s}, shell.Pos{})
		_ = classifyImage(testServer, s)
		_ = goRequires(s)
		_ = vcsURL(s)
		_ = printf(s, []string{"a", "b"})
		var g gitCfg
		g.helpers = map[string]cred{}
		g.set(testServer, opSet, "url."+s+".insteadOf", s, shell.Pos{})
		_, _ = g.rewrite(s, false)
	})
}

// TestHugeAndHostileCommands runs every detector on commands with huge
// words, many appends to credential files and unknown parts: no panic,
// bounded time.
func TestHugeAndHostileCommands(t *testing.T) {
	huge := strings.Repeat("a/", 8000) + ".git" // 16 kB words; evidence is redacted in full, then bounded
	var cmds []*shell.Command
	for i := 0; i < 1000; i++ { // 56 kB of appends, past the 16 kB bound
		c := cmdAt(i+1, "echo", "machine git.example.org login gitlab-ci-token password x")
		c.Redirects = []shell.Redirect{{Op: ">>", Target: wd("~/.netrc")}}
		cmds = append(cmds, c)
	}
	cmds = append(cmds,
		cmdAt(1, "git", "clone", "https://gitlab-ci-token:"+tok+"@git.example.org/"+huge),
		cmdAt(2, "git", "-c", "url."+huge+".insteadOf="+huge, "clone", huge),
		cmdAt(3, "docker", "pull", "registry.example.org/"+huge),
		cmdAt(4, "docker", "build", "-f", huge, huge),
		cmdAt(5, "pip", "install", "git+https://"+huge),
		cmdAt(6, "git", "submodule", "update", "--init", huge),
		cmdAt(7, "go", "get", "git.example.org/"+huge),
		cmdAt(8, "git", "clone", "https://gitlab-ci-token:"+tok+"@${HOST}/$(cat x)/${P}.git"),
	)
	in := testInput(cmds...)
	in.Env = shell.MapEnv{"GIT_SUBMODULE_STRATEGY": "recursive", "CI_REPOSITORY_URL": "https://gitlab-ci-token:" + tok + "@git.example.org/apps/web.git"}
	in.Files = nil
	out := &Output{}
	for _, d := range All() {
		d.Detect(in, out)
	}
	for _, u := range out.Uses {
		if len(u.Evidence.Detail) > maxDetail {
			t.Errorf("detail not bounded: %d bytes", len(u.Evidence.Detail))
		}
	}
	// Nil job (repository-level input) and a trigger job: nothing, no panic.
	for _, in := range []*Input{{Caller: in.Caller, Server: testServer}, {Caller: in.Caller, Server: testServer, Job: &ciconfig.Job{Trigger: &ciconfig.Trigger{Project: "x/y"}}, Commands: cmds}} {
		o := &Output{}
		for _, d := range All() {
			d.Detect(in, o)
		}
		if len(o.Uses)+len(o.Notes) != 0 {
			t.Errorf("output for a job without scripts: %+v", o)
		}
	}
}

// BenchmarkGitFamily runs the four detectors of this family on a 40-command
// job mixing clones, credential setup, registry logins, pulls and a build.
func BenchmarkGitFamily(b *testing.B) {
	var cmds []*shell.Command
	for i := 0; i < 5; i++ {
		netrc := cmdAt(1, "echo")
		netrc.Args = append(netrc.Args, wd("x", "machine git.example.org login gitlab-ci-token password "+tok))
		netrc.Redirects = []shell.Redirect{{Op: ">", Target: wd("~/.netrc")}}
		login := cmdAt(2, "docker", "login", "-u", "gitlab-ci-token", "-p", tok, "registry.example.org")
		cmds = append(cmds, netrc, login,
			cmdAt(3, "git", "clone", "--depth", "1", "https://gitlab-ci-token:"+tok+"@git.example.org/platform/build-scripts.git"),
			cmdAt(4, "git", "config", "--global", "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "git@git.example.org:"),
			cmdAt(5, "git", "clone", "git@git.example.org:cps/tools.git"),
			cmdAt(6, "pip", "install", "git+https://git.example.org/data/parser.git@main"),
			cmdAt(7, "docker", "pull", "registry.example.org/platform/cache/node:20"),
			cmdAt(8, "docker", "build", "-t", "x", "."),
		)
	}
	in := testInput(cmds...)
	in.Files = benchFiles{"Dockerfile": "ARG B=registry.example.org/platform/base:1\nFROM ${B} AS a\nFROM a\nRUN true\n",
		".gitmodules": "[submodule \"a\"]\n\tpath = a\n\turl = ../../libs/a.git\n"}
	in.Env.(shell.MapEnv)["GIT_SUBMODULE_STRATEGY"] = "recursive"
	dets := All()
	b.ReportAllocs()
	for b.Loop() {
		out := &Output{}
		for _, d := range dets {
			d.Detect(in, out)
		}
		if len(out.Uses) == 0 {
			b.Fatal("no uses")
		}
	}
}

type benchFiles map[string]string

func (f benchFiles) ReadFile(project, name string) ([]byte, error) {
	if s, ok := f[name]; ok && project == "apps/web" {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}
func (f benchFiles) Glob(string, string) ([]string, error) { return nil, nil }
func (f benchFiles) HasFiles(p string) bool                { return p == "apps/web" }

// BenchmarkGitFamilyTypicalJob is the common case: a job whose commands
// reach nothing of this family (npm, make, test runners).
func BenchmarkGitFamilyTypicalJob(b *testing.B) {
	var cmds []*shell.Command
	for _, line := range [][]string{{"npm", "ci"}, {"npm", "run", "lint"}, {"npm", "test", "--", "--coverage"}, {"cd", "dist"},
		{"tar", "czf", "app.tgz", "."}, {"echo", "done"}, {"make", "build"}, {"./scripts/check.sh", "--strict"},
		{"curl", "-fsSL", "https://example.com/x"}, {"git", "describe", "--tags"}, {"python3", "-m", "pytest"}, {"ls", "-la"}} {
		cmds = append(cmds, cmdAt(1, line...))
	}
	in := testInput(cmds...)
	dets := All()
	b.ReportAllocs()
	for b.Loop() {
		out := &Output{}
		for _, d := range dets {
			d.Detect(in, out)
		}
	}
}
