package detect

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
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
	j := tjob{
		vars:   []ciconfig.Variable{v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3), v("TF_HTTP_PASSWORD", "$CI_JOB_TOKEN", 4), v("TF_HTTP_USERNAME", "gitlab-ci-token", 5)},
		script: script,
		files: map[string]string{"requirements.txt": "--extra-index-url https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4927/packages/pypi/simple\nx\n",
			"ci_settings.xml": mvnSettings([3]string{"shared-libs", "Job-Token", "${env.CI_JOB_TOKEN}"}), "pom.xml": testPom,
			".npmrc": "@acme:registry=https://git.example.org/api/v4/packages/npm/\n", "package.json": `{"name":"@acme/x"}`},
	}
	in := j.input(b)
	repo := tjob{repo: true, files: j.files}.input(b)
	dets := All()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := &Output{}
		for _, d := range dets {
			d.Detect(in, out)
			d.Detect(repo, out)
		}
		if len(out.Uses) != 7 {
			b.Fatalf("only %d uses: %q", len(out.Uses), renderUses(out.Uses))
		}
	}
}

// BenchmarkDetectorsQuietJob is the common case: a build job with no
// job-token use, where detectors must cost little.
func BenchmarkDetectorsQuietJob(b *testing.B) {
	j := tjob{
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
	in := j.input(b)
	dets := All()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := &Output{}
		for _, d := range dets {
			d.Detect(in, out)
		}
		if len(out.Uses)+len(out.Notes) != 0 {
			b.Fatalf("quiet job produced %v %v", out.Uses, out.Notes)
		}
	}
}
