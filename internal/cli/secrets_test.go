package cli_test

import (
	"context"
	"encoding/base64"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// plantMark is in every planted secret, so one search finds any of them.
const plantMark = "Zq7X"

// plantedBasic is a base64 user:password that must not survive either.
var plantedBasic = base64.StdEncoding.EncodeToString([]byte("bot:" + plantMark + "basicpw"))

// plantSecrets writes an org of one leaky project that holds a distinctive
// secret in every file kind and form the security review found printed or
// stored, and a job log with every log form. It returns the snapshot
// directory and the log.
func plantSecrets(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const m = plantMark
	npmTok := "npm_" + m + strings.Repeat("a1B2", 8)
	write("inventory.yaml", `version: 1
server_url: https://gitlab.example.com
registry: registry.example.com
gitlab_version: "18.5"
groups:
  - {path: apps, id: 1}
  - {path: platform, id: 2}
projects:
  - {path: apps/leaky, id: 11, default_branch: main}
  - {path: platform/tools, id: 12, default_branch: main}
`)
	write("platform/tools/.gitlab-ci.yml", "build:\n  script: [make]\n")
	write("apps/leaky/.gitlab-ci.yml", `include:
  - remote: 'https://bot:`+m+`include@gitlab.example.com/platform/tools/-/raw/main/ci.yml'
variables:
  DEPLOY_KEY: glpat-`+m+`abcdefghijkl
  DOCKER_AUTH_CONFIG: '{"auths":{"registry.example.com":{"auth":"`+m+`YXV0aA=="}}}'
  BEARER: eyJhbGciOiJIUzI1NiJ9.`+m+`eyJzdWIiOiIxIn0.`+m+`c2lnbmF0dXJl
job:
  script:
    - curl -u deployer:`+m+`pass1 https://gitlab.example.com/api/v4/projects/12/packages/generic/x/1/f
    - curl "https://gitlab.example.com/api/v4/projects/12/repository/files/a?private_token=`+m+`priv123456"
    - curl -H "PRIVATE-TOKEN: glpat-`+m+`hdrabcdefgh" https://gitlab.example.com/api/v4/projects/platform%2Ftools
    - curl -H "Authorization: Basic `+plantedBasic+`" https://gitlab.example.com/api/v4/projects/12/packages/pypi/simple
    - curl "https://gitlab.example.com/api/v4/projects/12/jobs/artifacts/main/download?job=b&access_token=`+m+`access1"
    - curl -X POST -F token=glptt-`+m+`trigger0123 -F ref=main https://gitlab.example.com/api/v4/projects/12/trigger/pipeline
    - curl "https://gitlab.example.com/platform/tools#access_token=`+m+`fragment1"
    - git clone https://bot:`+m+`gitpw@gitlab.example.com/platform/tools.git
    - docker login -u bot -p `+m+`docker registry.example.com
    - skopeo copy --src-creds bot:`+m+`skopeo docker://registry.example.com/platform/tools/img docker://x/y
    - helm repo add c https://gitlab.example.com/api/v4/projects/12/packages/helm/stable --username bot --password `+m+`helm
    - echo "machine gitlab.example.com login bot password `+m+`netrcecho" > ~/.netrc
    - npm config set //gitlab.example.com/api/v4/projects/12/packages/npm/:_authToken `+npmTok+`
    - mvn -s settings.xml deploy
    - npm publish
    - terraform init
`)
	write("apps/leaky/settings.xml", `<settings><servers><server><id>gitlab-maven</id>
<username>bot</username><password>`+m+`maven</password>
</server></servers></settings>
`)
	write("apps/leaky/.npmrc", "_auth = "+m+"npmauth\n//gitlab.example.com/api/v4/projects/12/packages/npm/:_authToken="+npmTok+"\n")
	write("apps/leaky/.netrc", "machine gitlab.example.com login bot password "+m+"netrcfile\n")
	write("apps/leaky/main.tf", `terraform {
  backend "http" {
    address  = "https://gitlab.example.com/api/v4/projects/12/terraform/state/prod"
    username = "bot"
    password = "`+m+`tfstate"
  }
}
`)
	write("apps/leaky/nuget.config", `<configuration><packageSourceCredentials><gitlab>
<add key="Username" value="bot" /><add key="ClearTextPassword" value="`+m+`nuget" />
</gitlab></packageSourceCredentials></configuration>
`)
	logf := filepath.Join(t.TempDir(), "job.log")
	if err := os.WriteFile(logf, []byte(`$ git clone https://gitlab-ci-token:`+m+`logjob@gitlab.example.com/platform/tools.git
Cloning into 'tools'...
remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password.
fatal: Authentication failed for 'https://gitlab-ci-token:`+m+`logjob@gitlab.example.com/platform/tools.git/'
$ curl --fail -H "JOB-TOKEN: glcbt-`+m+`logheader01" "https://gitlab.example.com/api/v4/projects/12/packages/generic/x/1/f?job_token=`+m+`logparam"
curl: (22) The requested URL returned error: 403
$ docker login -u gitlab-ci-token -p `+m+`logdocker registry.example.com
Error response from daemon: Get "https://registry.example.com/v2/": denied: access forbidden
$ pip install --index-url https://__token__:`+m+`logpip@gitlab.example.com/api/v4/projects/12/packages/pypi/simple x
Authorization: Basic `+plantedBasic+`
ERROR: HTTP error 403 while getting https://gitlab.example.com/api/v4/projects/12/packages/pypi/simple/x/
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, logf
}

// Every command, in every format, prints none of the planted secrets,
// neither to stdout, stderr nor to the files it writes; the snapshot
// stores none either.
func TestPlantedSecretsNeverLeave(t *testing.T) {
	dir, logf := plantSecrets(t)
	out := t.TempDir()
	var all strings.Builder
	var runs int
	check := func(args ...string) {
		code, stdout, stderr := run(context.Background(), args...)
		runs++
		if code == 2 {
			t.Errorf("%v: usage error: %s", args, stderr)
		}
		all.WriteString(stdout)
		all.WriteString(stderr)
	}
	for _, f := range []string{"table", "json", "markdown", "csv", "dot", "mermaid"} {
		check("scan", dir, "--format", f)
	}
	for _, f := range []string{"table", "json", "markdown", "script", "terraform"} {
		check("plan", dir, "--format", f)
	}
	check("plan", dir, "--format", "json", "-o", filepath.Join(out, "plan.json"))
	check("trust", "init", dir, "-o", filepath.Join(out, "trust.yaml"))
	check("trust", "check", filepath.Join(out, "trust.yaml"), "--source", dir)
	check("plan", dir, "--trust", filepath.Join(out, "trust.yaml"))
	for _, f := range []string{"table", "json", "markdown", "codequality"} {
		check("audit", dir, "--trust", filepath.Join(out, "trust.yaml"), "--format", f)
	}
	for _, f := range []string{"table", "json", "markdown"} {
		check("diagnose", logf, "--project", "apps/leaky", "--source", dir, "--format", f)
		check("diagnose", logf, "--format", f)
	}

	s, err := sim.Load(dir, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	snap := filepath.Join(out, "snap")
	check("snapshot", "--gitlab", srv.URL, "--group", "apps", "--group", "platform", "-o", snap)
	check("scan", "--gitlab", srv.URL, "--group", "apps", "--group", "platform", "--format", "json")

	files := 0
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			all.Write(data)
			files++
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(snap, "apps/leaky/settings.xml")); err != nil {
		t.Errorf("the snapshot did not store the leaky project's files: %v", err)
	}
	text := all.String()
	for _, needle := range []string{plantMark, plantedBasic} {
		if n := strings.Count(text, needle); n > 0 {
			i := strings.Index(text, needle)
			t.Errorf("%d planted secrets (%q) in the output of %d runs and %d files, first at: %q", n, needle, runs, files, text[max(0, i-120):min(len(text), i+60)])
		}
	}
	// Masking keeps meaning: the stored snapshot scans as the repository
	// does, and in every scan format.
	for _, f := range []string{"json", "table"} {
		_, fromRepo, _ := run(context.Background(), "scan", dir, "--format", f)
		_, fromSnap, _ := run(context.Background(), "scan", snap, "--format", f)
		if fromRepo != fromSnap {
			t.Errorf("scan --format %s of the snapshot differs from the repository's:\n%s", f, lineDiff(fromRepo, fromSnap))
		}
	}
	if !strings.Contains(text, "platform/tools") {
		t.Error("the output never names the callee: the commands did not analyse the project")
	}
}

// lineDiff lists the lines of a and b that differ, position by position.
func lineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			out.WriteString("- " + x + "\n+ " + y + "\n")
		}
	}
	return out.String()
}
