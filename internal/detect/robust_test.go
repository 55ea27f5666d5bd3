package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// oddFiles are repository files that parse badly or oddly.
var oddFiles = map[string]string{
	".npmrc":           "=\n==\n//:_authToken=\n@:registry=\n//git.example.org/:_authToken=${CI_JOB_TOKEN}\n",
	".yarnrc.yml":      "npmScopes: [\n",
	"pom.xml":          "<project><repositories><repository><id>a</id><url>${x}</url>",
	"ci_settings.xml":  "<settings><servers><server><id>a</id><password>${env.CI_JOB_TOKEN}</password>",
	"requirements.txt": "-r requirements.txt\n--extra-index-url\n-i\n",
	"pyproject.toml":   "[[tool.uv.index]]\nname=\nurl='\n",
	"backend.tf":       "backend \"http\" {\n address = \"\n}\n",
	"main.tf":          "source = \"a/b/c/d\"\nsource=\"\"\n",
}

// oddJob is acme/app running script over oddFiles; scripts that do not
// parse are analysed anyway.
func oddJob(script string, repo bool) job {
	j := row{script: script, files: oddFiles, repo: repo}.job()
	j.lenient = true
	return j
}

var oddScripts = []string{
	"curl", "curl -H", "curl -H 'JOB-TOKEN: $CI_JOB_TOKEN'", "curl -X", "curl --url", "curl -u", "curl -- -x",
	"curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" https:// // @ ://x http://[::1 $ ${",
	"wget --header=", "http", "http GET", "http POST : =", "https :x token=$CI_JOB_TOKEN",
	"glab", "glab auth login --job-token", "glab -R", "glab api", "release-cli --project-id", "download-secure-files",
	"helm repo add", "helm repo add a", "helm cm-push", "helm push a", "helm --repo",
	"mvn -s", "mvn -f", "mvn -D", "mvn -s ci_settings.xml -f . deploy -DaltDeploymentRepository=::", "mvnw $X",
	"terraform", "terraform -chdir=", "terraform init -backend-config", "terraform state", "gitlab-terraform apply",
	"npm", "npm publish", "npm config set", "npm config set a", "yarn config set npmAuthToken x", "yarn npm publish",
	"pip install -r", "pip install -r requirements.txt", "uv pip", "uv publish", "poetry publish -r x", "twine upload",
	"python -m", "python -m twine upload --repository-url", "echo > .npmrc", "cat > .npmrc", "cp", "cp a", "tee .netrc",
	"printf %s%s%q > pip.conf", "envsubst < missing > .npmrc", "export", "export =", "timeout", "sudo -u", "env A=B",
	"xargs -n1 curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\"",
}

func TestDetectorsSurviveOddInput(t *testing.T) {
	for _, s := range oddScripts {
		for _, repo := range []bool{false, true} {
			in := oddJob(s, repo).input(t)
			out := &detect.Output{}
			for _, d := range detect.All() {
				d.Detect(in, out)
			}
			assertClean(t, out, !repo)
		}
	}
	// Commands the shell layer should never produce, still no panic.
	in := oddJob("", false).input(t)
	in.Commands = []*shell.Command{{}, {Args: []shell.Word{{}}}, {Args: []shell.Word{{Value: "curl"}}, Stdin: &shell.Command{}},
		{Args: []shell.Word{{Value: "cat"}}, Redirects: []shell.Redirect{{Op: ">", Target: shell.Word{Value: ".npmrc"}}, {Op: "<<"}}}}
	out := &detect.Output{}
	for _, d := range detect.All() {
		d.Detect(in, out)
	}
}

func TestDetectorsDoNotModifyInput(t *testing.T) {
	in := row{script: "echo \"//git.example.org/:_authToken=${CI_JOB_TOKEN}\" > .npmrc\nnpm ci\ncurl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"$CI_API_V4_URL/projects/5/packages/generic/a/1/a\"", files: oddFiles}.job().input(t)
	before := snapshotInput(in)
	out := &detect.Output{}
	for _, d := range detect.All() {
		d.Detect(in, out)
	}
	if after := snapshotInput(in); after != before {
		t.Fatalf("input changed:\n%s\n%s", before, after)
	}
}

func snapshotInput(in *detect.Input) string {
	var b strings.Builder
	for _, c := range in.Commands {
		b.WriteString(detect.CommandText(c))
		for _, w := range c.Args {
			b.WriteString("|" + w.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzDetectors(f *testing.F) {
	for _, s := range oddScripts {
		f.Add(s)
	}
	f.Add("curl -sS -X POST -F token=$CI_JOB_TOKEN -F ref=main \"$CI_API_V4_URL/projects/${DOWNSTREAM_ID}/trigger/pipeline\"")
	f.Add("cat > .npmrc <<EOF\n//${CI_SERVER_HOST}/api/v4/projects/1/packages/npm/:_authToken=${CI_JOB_TOKEN}\nEOF\nnpm publish")
	f.Fuzz(func(t *testing.T, script string) {
		if len(script) > 4096 {
			return
		}
		in := oddJob(script, false).input(t)
		out := &detect.Output{}
		for _, d := range detect.All() {
			d.Detect(in, out)
		}
		for _, u := range out.Uses {
			if strings.Contains(u.Evidence.Detail, "__CI_JOB_TOKEN__") {
				t.Fatalf("marker leaked: %q", u.Evidence.Detail)
			}
		}
	})
}
