package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// BenchmarkDetectors runs every detector of this family over one realistic
// job (package installs, a publish, REST calls, Terraform) and over the
// repository-level pass, as discovery does per job.
func BenchmarkDetectors(b *testing.B) {
	script := strings.Join([]string{
		`echo "//${CI_SERVER_HOST}/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}" >> .npmrc`,
		`npm ci`,
		`pip install -r requirements.txt`,
		`curl --fail -H "JOB-TOKEN: $CI_JOB_TOKEN" -o tool.tgz "${CI_API_V4_URL}/projects/55/packages/generic/tool/1.2.0/tool.tgz"`,
		`curl -sS -X POST -F token=$CI_JOB_TOKEN -F ref=main "$CI_API_V4_URL/projects/77/trigger/pipeline"`,
		`helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} charts "${CI_API_V4_URL}/projects/4711/packages/helm/stable"`,
		`mvn -s ci_settings.xml deploy`,
		`terraform init`, `terraform plan`, `terraform apply -auto-approve`,
		`make build`, `docker build -t x .`, `echo done`, `ls -la`, `cd sub && make test`,
		`npm publish`,
	}, "\n")
	j := row{
		vars:   []ciconfig.Variable{v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3), v("TF_HTTP_PASSWORD", "$CI_JOB_TOKEN", 4), v("TF_HTTP_USERNAME", "gitlab-ci-token", 5)},
		script: script,
		files: map[string]string{"requirements.txt": "--extra-index-url https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4927/packages/pypi/simple\nx\n",
			"ci_settings.xml": mvnSettings([3]string{"shared-libs", "Job-Token", "${env.CI_JOB_TOKEN}"}), "pom.xml": testPom,
			".npmrc": "@acme:registry=https://git.example.org/api/v4/packages/npm/\n", "package.json": `{"name":"@acme/x"}`},
	}
	in := j.job().input(b)
	repo := row{repo: true, files: j.files}.job().input(b)
	dets := detect.All()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := detectAll(dets, in, repo)
		if len(out.Uses) != 7 {
			b.Fatalf("only %d uses: %q", len(out.Uses), renderUses(out.Uses))
		}
	}
}

// BenchmarkDetectorsQuietJob is the common case: a build job with no
// job-token use, where detectors must cost little.
func BenchmarkDetectorsQuietJob(b *testing.B) {
	j := row{
		vars: []ciconfig.Variable{v("GIT_DEPTH", "10", 2), v("DOCKER_DRIVER", "overlay2", 3)},
		script: strings.Join([]string{
			`apt-get update && apt-get install -y make gcc`, `make deps`, `go test ./...`, `go build -o app .`,
			`docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA .`, `docker push $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA`,
			`echo "built $CI_COMMIT_SHA" > build.txt`, `ls -la`, `cd sub && make test`, `npm ci`, `npm test`,
			`pip install -r requirements.txt`, `pytest -q`,
		}, "\n"),
		// The image build's Dockerfile pulls from Docker Hub only.
		files: map[string]string{"requirements.txt": "requests==2.31\n", "package.json": `{"name":"x"}`, "Dockerfile": "FROM golang:1.26\nRUN go build ./...\n"},
	}
	in := j.job().input(b)
	dets := detect.All()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if out := detectAll(dets, in); len(out.Uses)+len(out.Notes) != 0 {
			b.Fatalf("quiet job produced %v %v", out.Uses, out.Notes)
		}
	}
}

// BenchmarkGitFamily runs the four detectors of this family on a 40-command
// job mixing clones, credential setup, registry logins, pulls and a build.
func BenchmarkGitFamily(b *testing.B) {
	var cmds []*shell.Command
	for i := 0; i < 5; i++ {
		netrc := detect.CmdAt(1, "echo")
		netrc.Args = append(netrc.Args, detect.Word("x", "machine git.example.org login gitlab-ci-token password "+marker))
		netrc.Redirects = []shell.Redirect{{Op: ">", Target: detect.Word("~/.netrc")}}
		login := detect.CmdAt(2, "docker", "login", "-u", "gitlab-ci-token", "-p", marker, "registry.example.org")
		cmds = append(cmds, netrc, login,
			detect.CmdAt(3, "git", "clone", "--depth", "1", "https://gitlab-ci-token:"+marker+"@git.example.org/platform/build-scripts.git"),
			detect.CmdAt(4, "git", "config", "--global", "url.https://gitlab-ci-token:"+marker+"@git.example.org/.insteadOf", "git@git.example.org:"),
			detect.CmdAt(5, "git", "clone", "git@git.example.org:cps/tools.git"),
			detect.CmdAt(6, "pip", "install", "git+https://git.example.org/data/parser.git@main"),
			detect.CmdAt(7, "docker", "pull", "registry.example.org/platform/cache/node:20"),
			detect.CmdAt(8, "docker", "build", "-t", "x", "."),
		)
	}
	in := detect.NewInput(cmds...)
	in.Files = detect.MemFiles{"apps/web:Dockerfile": "ARG B=registry.example.org/platform/base:1\nFROM ${B} AS a\nFROM a\nRUN true\n",
		"apps/web:.gitmodules": "[submodule \"a\"]\n\tpath = a\n\turl = ../../libs/a.git\n"}
	in.Env.(shell.MapEnv)["GIT_SUBMODULE_STRATEGY"] = "recursive"
	dets := detect.All()
	b.ReportAllocs()
	for b.Loop() {
		if out := detectAll(dets, in); len(out.Uses) == 0 {
			b.Fatal("no uses")
		}
	}
}

// BenchmarkGitFamilyTypicalJob is the common case: a job whose commands
// reach nothing of this family (npm, make, test runners).
func BenchmarkGitFamilyTypicalJob(b *testing.B) {
	var cmds []*shell.Command
	for _, line := range [][]string{{"npm", "ci"}, {"npm", "run", "lint"}, {"npm", "test", "--", "--coverage"}, {"cd", "dist"},
		{"tar", "czf", "app.tgz", "."}, {"echo", "done"}, {"make", "build"}, {"./scripts/check.sh", "--strict"},
		{"curl", "-fsSL", "https://example.com/x"}, {"git", "describe", "--tags"}, {"python3", "-m", "pytest"}, {"ls", "-la"}} {
		cmds = append(cmds, detect.CmdAt(1, line...))
	}
	in := detect.NewInput(cmds...)
	dets := detect.All()
	b.ReportAllocs()
	for b.Loop() {
		detectAll(dets, in)
	}
}

// detectAll runs every detector over the inputs (a job and its
// repository-level pass), as discovery does.
func detectAll(dets []detect.Detector, ins ...*detect.Input) *detect.Output {
	out := &detect.Output{}
	for _, d := range dets {
		for _, in := range ins {
			d.Detect(in, out)
		}
	}
	return out
}
