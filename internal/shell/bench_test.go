package shell

import (
	"syscall"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// benchSources is a realistic job: before_script items and a script
// with a block scalar, 30 lines in all.
var benchSources = []Source{
	{Text: `echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"`, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 12}, LineStep: 1, Section: "before_script"},
	{Text: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/".insteadOf "git@${CI_SERVER_HOST}:"`, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 13}, LineStep: 1, Section: "before_script"},
	{Text: `export GOPRIVATE="${CI_SERVER_HOST}/platform/*"`, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 14}, LineStep: 1, Section: "before_script"},
	{Text: `set -euo pipefail
[[ -z ${MANIFEST_URL:+x} ]] && MANIFEST_URL="https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/deploy-manifests.git"
VERSION=$(git describe --tags --always)
IMAGE="${CI_REGISTRY_IMAGE}/app:${VERSION}"
clone() {
  local path="$1"
  git clone --depth 1 "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${path}.git" "${2:-$(basename "$path")}"
}
for svc in billing mailer search; do
  clone "${SERVICES_GROUP}/${svc}"
done
cat > .npmrc <<EOF
@acme:registry=${CI_API_V4_URL}/projects/31337/packages/npm/
//${CI_SERVER_HOST}/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}
EOF
pip install --index-url "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/api/v4/projects/${PYREG_PROJECT_ID:-4927}/packages/pypi/simple" -r requirements.txt
curl --fail -H "JOB-TOKEN: $CI_JOB_TOKEN" -o tool.tgz \
  "${CI_API_V4_URL}/projects/${TOOLS_PROJECT_ID:-77}/packages/generic/tool/1.2.0/tool.tgz"
tar xzf tool.tgz
if [ "$CI_COMMIT_REF_NAME" = "$CI_DEFAULT_BRANCH" ]; then
  docker build --build-arg CI_JOB_TOKEN="$CI_JOB_TOKEN" -t "$IMAGE" .
  docker push "$IMAGE"
else
  echo "not pushing ${IMAGE}"
fi
git clone "$MANIFEST_URL" manifests
(cd manifests && sed -i "s|image: .*|image: ${IMAGE}|" app.yaml && git commit -am "deploy ${VERSION}")
helm repo add --username gitlab-ci-token --password "${CI_JOB_TOKEN}" charts "${CI_API_V4_URL}/projects/${CHARTS_PROJECT_ID:-12}/packages/helm/stable"
`, Pos: loc.Pos{File: ".gitlab-ci.yml", Line: 16}, LineStep: 1, Section: "script"},
}

// BenchmarkAnalyze measures one job's analysis (parse + expansion) on
// a realistic 30-line script, without the parse cache.
func BenchmarkAnalyze(b *testing.B) {
	setCache(b, false)
	benchAnalyze(b)
}

// BenchmarkAnalyzeCached is the same with the script texts already
// parsed, as for the second and later jobs sharing a template.
func BenchmarkAnalyzeCached(b *testing.B) {
	setCache(b, true)
	benchAnalyze(b)
}

func setCache(b *testing.B, on bool) {
	astCache.Lock()
	astCache.enabled = on
	astCache.Unlock()
	b.Cleanup(func() {
		astCache.Lock()
		astCache.enabled = true
		astCache.Unlock()
	})
}

func benchAnalyze(b *testing.B) {
	env := jobEnv()
	b.ReportAllocs()
	var n int
	cpu0 := cpuTime()
	for b.Loop() {
		r := Analyze(benchSources, env, Options{})
		n = len(r.Commands)
	}
	// CPU time per op, which unlike wall time does not grow when other
	// processes share the machine (it includes the GC's work).
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if n < 20 {
		b.Fatalf("only %d commands", n)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
