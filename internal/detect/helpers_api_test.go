package detect

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
)

func ws(vals ...string) []shell.Word {
	out := make([]shell.Word, len(vals))
	for i, v := range vals {
		out[i] = shell.Word{Raw: v, Value: v}
	}
	return out
}

func TestParseOpts(t *testing.T) {
	p := curlSpec.parse(ws("-sSfLo", "out.zip", "-HJOB-TOKEN: x", "--header", "A: b", "--data=k=v", "--", "-notanopt", "url"))
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
		if got := argv(&shell.Command{Args: ws(tc.in...)})[0].Value; got != tc.want {
			t.Errorf("argv(%v)[0] = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEchoAndPrintf(t *testing.T) {
	if got := echoOutput(ws("-e", `machine h\nlogin u`)).value; got != "machine h\nlogin u\n" {
		t.Errorf("echo -e = %q", got)
	}
	if got := echoOutput(ws("-n", "x")).value; got != "x" {
		t.Errorf("echo -n = %q", got)
	}
	if got, _ := printfOutput(ws(`%s:%s\n`, "a", "b", "c", "d")); got.value != "a:b\nc:d\n" {
		t.Errorf("printf reuse = %q", got.value)
	}
	if got, _ := printfOutput(ws(`100%% %5s\n`, "x")); got.value != "100% x\n" {
		t.Errorf("printf %% = %q", got.value)
	}
}

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

func TestBasicAuthVerdict(t *testing.T) {
	tok := inventory.JobToken
	for _, tc := range []struct {
		user, secret string
		use, wont    bool
	}{
		{"gitlab-ci-token", tok, true, false},
		{"__token__", tok, false, true},
		{"oauth2", tok, false, true},
		{"", tok, false, true},
		{"gitlab-ci-token", "${PAT}", false, false},
	} {
		ok, why := basicAuthVerdict(credential{User: tc.user, Secret: tc.secret})
		if ok != tc.use || (why != "") != tc.wont {
			t.Errorf("basicAuthVerdict(%q) = %v, %q", tc.user, ok, why)
		}
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

func TestRepoPath(t *testing.T) {
	in := tjob{}.input(t)
	for p, want := range map[string]string{"./a/b.txt": "a/b.txt", "/builds/acme/app/ci/x.xml": "ci/x.xml", "/etc/pip.conf": "", "~/.npmrc": "", "../x": "", "${X}/a": ""} {
		got, ok := in.repoPath(p)
		if (want == "") == ok || got != want {
			t.Errorf("repoPath(%q) = %q, %v", p, got, ok)
		}
	}
}

func TestWritesAndNetrc(t *testing.T) {
	in := tjob{script: strings.Join([]string{
		`echo -e "machine git.example.org\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}" > ~/.netrc`,
		`printf "machine other.org login u password p\n" >> ~/.netrc`,
		`echo '{"a":1}' | tee -a /tmp/x.json`,
		`envsubst < tmpl.npmrc > .npmrc`,
	}, "\n"), files: map[string]string{"tmpl.npmrc": "//h/:_authToken=${CI_JOB_TOKEN}\n"}}.input(t)
	n := in.netrc(nil)
	if e := n["git.example.org"]; e.login != "gitlab-ci-token" || !HasJobToken(e.password) {
		t.Errorf("netrc git.example.org = %+v", e)
	}
	if e := n["other.org"]; e.login != "u" || e.password != "p" {
		t.Errorf("netrc other.org = %+v", e)
	}
	w := in.writes(func(d string) bool { return strings.HasSuffix(d, ".json") || strings.HasSuffix(d, ".npmrc") })
	if len(w) != 2 || w[0].out.value != "{\"a\":1}\n" || !w[0].append || w[1].out.from != "tmpl.npmrc" {
		t.Errorf("writes = %+v", w)
	}
	// envsubst expands the template with the job's variables.
	if !HasJobToken(w[1].out.value) {
		t.Errorf("envsubst output not expanded: %q", w[1].out.value)
	}
}
