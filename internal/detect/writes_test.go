package detect

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/shell"
)

func TestEchoAndPrintf(t *testing.T) {
	if got := echoOutput(plain("-e", `machine h\nlogin u`)).value; got != "machine h\nlogin u\n" {
		t.Errorf("echo -e = %q", got)
	}
	if got := echoOutput(plain("-n", "x")).value; got != "x" {
		t.Errorf("echo -n = %q", got)
	}
	if got, _ := printfOutput(plain(`%s:%s\n`, "a", "b", "c", "d")); got.value != "a:b\nc:d\n" {
		t.Errorf("printf reuse = %q", got.value)
	}
	if got, _ := printfOutput(plain(`100%% %5s\n`, "x")); got.value != "100% x\n" {
		t.Errorf("printf %% = %q", got.value)
	}
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

func TestWritesAndNetrc(t *testing.T) {
	in := scriptInput(t, acmeApp, strings.Join([]string{
		`echo -e "machine git.example.org\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}" > ~/.netrc`,
		`printf "machine other.org login u password p\n" >> ~/.netrc`,
		`echo '{"a":1}' | tee -a /tmp/x.json`,
		`envsubst < tmpl.npmrc > .npmrc`,
	}, "\n"), map[string]string{"tmpl.npmrc": "//h/:_authToken=${CI_JOB_TOKEN}\n"})
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
