package detect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

func TestNerfDartAndAuthFor(t *testing.T) {
	if got := nerfDart("https://Git.Example.org/api/v4/projects/1/packages/npm"); got != "//git.example.org/api/v4/projects/1/packages/npm/" {
		t.Errorf("nerfDart = %q", got)
	}
	cfg := npmConfig{auths: []npmEntry{
		{URL: "//git.example.org/", Value: "host"},
		{URL: "//git.example.org/api/v4/projects/1/packages/npm/", Value: "proj"},
	}}
	if a, _ := cfg.authFor("https://git.example.org/api/v4/projects/1/packages/npm/"); a.Value != "proj" {
		t.Errorf("authFor project = %q", a.Value)
	}
	if a, _ := cfg.authFor("https://git.example.org/api/v4/projects/2/packages/npm/"); a.Value != "host" {
		t.Errorf("authFor other project = %q", a.Value)
	}
	if _, ok := cfg.authFor("https://registry.npmjs.org/"); ok {
		t.Error("authFor npmjs matched")
	}
}

func TestMavenExpandAndGradleEval(t *testing.T) {
	env := shell.MapEnv{"CI_JOB_TOKEN": "T", "CI_API_V4_URL": "https://h/api/v4"}
	if got := mavenExpand("${env.CI_JOB_TOKEN}|${CI_JOB_TOKEN}|${repo.id}|${env.NOPE}", map[string]string{"repo.id": "${CI_API_V4_URL}"}, nil, env); got != "T|T|https://h/api/v4|${NOPE}" {
		t.Errorf("mavenExpand = %q", got)
	}
	if got := gradleEval(`"${System.getenv("CI_API_V4_URL")}/projects/${System.getenv("PID")}/packages/maven"`, env, nil); got != "https://h/api/v4/projects/${PID}/packages/maven" {
		t.Errorf("gradleEval = %q", got)
	}
}

func TestGitRewrite(t *testing.T) {
	var g gitCfg
	g.helpers = map[string]cred{}
	g.set(testServer, opSet, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "https://git.example.org/", loc.Pos{})
	g.set(testServer, opAdd, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "git@git.example.org:", loc.Pos{})
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
	g.set(testServer, opUnset, "url.https://gitlab-ci-token:"+tok+"@git.example.org/.insteadOf", "", loc.Pos{})
	if len(g.rules) != 0 {
		t.Errorf("rules after unset = %+v", g.rules)
	}
	if k, _ := g.set(testServer, opSet, "url.https://oauth2:"+tok+"@github.com/.insteadOf", "https://github.com/", loc.Pos{}); k != use.OtherHost {
		t.Errorf("token to github.com: note %q, want other-host", k)
	}
	if k, _ := g.set(testServer, opSet, "url.https://oauth2:"+tok+"@git.example.org/.insteadOf", "https://git.example.org/", loc.Pos{}); k != use.WontWork {
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
		got, ok := parseAuthJSON(tc.o, loc.Pos{})
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
		// omnibus-gitlab's deploy script: a Docker Hub namespace with the
		// image name and tag from a rake task; no GitLab registry.
		{"gitlab/${image_name}:${image_tag}", imgOther, ""},
		{"${IMAGE_REGISTRY}/${image_name}:${image_tag}", imgUnknown, "${image_name}"},
		{"$BUILD_IMAGE", imgUnknown, "${BUILD_IMAGE}"},
		{"${GITLAB_DEPENDENCY_PROXY}golang:1.25", imgUnknown, ""},
		{"localhost/${name}:1", imgOther, ""},
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
		_ = netrcCreds(s, loc.Pos{})
		_ = parseGitCredentials(s, loc.Pos{})
		_, _ = parseAuthJSON(output{value: s, raw: s}, loc.Pos{})
		_ = classifyImage(testServer, s)
		_ = goRequires(s)
		_ = vcsURL(s)
		_ = printf(s, []string{"a", "b"})
		var g gitCfg
		g.helpers = map[string]cred{}
		g.set(testServer, opSet, "url."+s+".insteadOf", s, loc.Pos{})
		_, _ = g.rewrite(s, false)
	})
}

func TestParseINIContinuation(t *testing.T) {
	secs := parseINI("[global]\nindex-url = https://a/simple\nextra-index-url =\n    https://b/simple\n    https://c/simple\n")
	if len(secs) != 1 || secs[0].get("extra-index-url") != " https://b/simple https://c/simple" {
		t.Fatalf("parseINI = %+v", secs)
	}
}

func TestTFTokenHost(t *testing.T) {
	for in, want := range map[string]string{"git_example_org": "git.example.org", "my__gitlab_example_com": "my-gitlab.example.com"} {
		if got := tfTokenHost(in); got != want {
			t.Errorf("tfTokenHost(%q) = %q, want %q", in, got, want)
		}
	}
}
