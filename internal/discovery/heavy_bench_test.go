package discovery

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// BenchmarkHeavyOrg scans an org of projects whose CI configurations are
// the size of large real ones, laid out as GitLab's own .gitlab-ci.yml is
// (a root file with a long workflow:rules list and many global variables,
// over a hundred .gitlab/ci/**/*.gitlab-ci.yml includes, a shared rules
// file of hidden jobs pulled in with !reference and extends, 500+ jobs with
// scripts of real length that source a shared shell library). It measures,
// in the same run, (a) reading every file of the org once through the
// snapshot and (b) the scan, and reports their ratio and the peak RSS.
//
// Run: go test -run '^$' -bench HeavyOrg -benchtime 1x ./internal/discovery
// (TOKENSCOPE_BENCH_PROJECTS sets the number of projects, default 100;
// TOKENSCOPE_BENCH_WORKFLOW_RULES the workflow rules, default 34.)
func BenchmarkHeavyOrg(b *testing.B) {
	n := 100
	if s := os.Getenv("TOKENSCOPE_BENCH_PROJECTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("TOKENSCOPE_BENCH_WORKFLOW_RULES"); s != "" {
		heavyWorkflowRules, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	st, err := writeHeavyOrg(dir, n, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d projects, %d files, %d bytes, %d jobs and %d workflow rules per project", n, st.files, st.bytes, st.jobs, heavyWorkflowRules)
	b.ResetTimer()
	var readD, scanD, readCPU, scanCPU, yamlCPU time.Duration
	var edges, uses, unresolved, notes int
	for b.Loop() {
		runtime.GC()
		start, cpu := time.Now(), cpuTime()
		if err := readAll(dir); err != nil {
			b.Fatal(err)
		}
		readD, readCPU = time.Since(start), cpuTime()-cpu
		runtime.GC()
		cpu = cpuTime()
		if err := readEach(dir, true); err != nil {
			b.Fatal(err)
		}
		yamlCPU = cpuTime() - cpu
		runtime.GC()
		start, cpu = time.Now(), cpuTime()
		snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		g, _, err := Scan(context.Background(), snap, Options{})
		if err != nil {
			b.Fatal(err)
		}
		scanD, scanCPU = time.Since(start), cpuTime()-cpu
		snap.Close()
		edges, unresolved, notes, uses = len(g.Edges), len(g.Unresolved), len(g.Notes), 0
		for _, e := range g.Edges {
			uses += len(e.Uses)
		}
	}
	b.ReportMetric(float64(readD.Milliseconds()), "read-ms")
	b.ReportMetric(float64(scanD.Milliseconds()), "scan-ms")
	b.ReportMetric(float64(scanD)/float64(readD), "scan/read")
	// CPU time too: on a shared machine wall time measures the neighbours.
	b.ReportMetric(float64(readCPU.Milliseconds()), "read-cpu-ms")
	b.ReportMetric(float64(scanCPU.Milliseconds()), "scan-cpu-ms")
	b.ReportMetric(float64(scanCPU)/float64(readCPU), "scan/read-cpu")
	// The floor the YAML library sets: reading and decoding every file.
	b.ReportMetric(float64(yamlCPU.Milliseconds()), "read+yaml-cpu-ms")
	b.ReportMetric(float64(yamlCPU)/float64(readCPU), "read+yaml/read-cpu")
	b.ReportMetric(float64(edges), "edges")
	b.ReportMetric(float64(uses), "uses")
	b.ReportMetric(float64(unresolved), "unresolved")
	b.ReportMetric(float64(notes), "notes")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readAll reads every file of the snapshot once, as the scan's reads do
// (through the snapshot, with its checks), on as many goroutines as the
// scan uses: the floor a scan of these files could reach.
func readAll(dir string) error { return readEach(dir, false) }

// readEach is readAll; with parse, it also decodes every YAML file with
// the YAML library the scan uses, once: no configuration reader built on
// it can be faster than this.
func readEach(dir string, parse bool) error {
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		return err
	}
	defer snap.Close()
	type file struct{ project, name string }
	var files []file
	for _, p := range snap.Inventory.Projects {
		root := filepath.Join(dir, filepath.FromSlash(p.Path))
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			files = append(files, file{p.Path, filepath.ToSlash(rel)})
			return nil
		})
		if err != nil {
			return err
		}
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var total int
			for i := w; i < len(files); i += workers {
				data, err := snap.ReadFile(files[i].project, files[i].name)
				if err != nil {
					errs <- err
					return
				}
				total += len(data)
				if parse && (strings.HasSuffix(files[i].name, ".yml") || strings.HasSuffix(files[i].name, ".yaml")) {
					var n yaml.Node
					if err := yaml.Unmarshal(data, &n); err != nil {
						errs <- err
						return
					}
				}
			}
			_ = total
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// The heavy org's shape, after GitLab's own configuration
// (gitlab-org/gitlab: .gitlab-ci.yml, .gitlab/ci/*.gitlab-ci.yml,
// .gitlab/ci/rules.gitlab-ci.yml, scripts/utils.sh).
var heavyWorkflowRules = 34 // TOKENSCOPE_BENCH_WORKFLOW_RULES sets it, to compare

const (
	heavyIncludes    = 110 // area files under .gitlab/ci
	heavyJobsPerFile = 5   // 550 jobs
	heavyGlobalVars  = 60
	heavyRulesSets   = 80 // hidden .rules:* jobs in the rules file
)

type heavyStats struct {
	files, jobs int
	bytes       int64
}

func writeHeavyOrg(dir string, projects int, seed uint64) (heavyStats, error) {
	var st heavyStats
	inv := &inventory.Inventory{Version: inventory.Version, ServerURL: "https://gitlab.bench.example", Registry: "registry.bench.example", GitLabVersion: "18.5"}
	write := func(project, name, content string) error {
		p := filepath.Join(dir, filepath.FromSlash(project), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		st.files++
		st.bytes += int64(len(content))
		return os.WriteFile(p, []byte(content), 0o644)
	}
	id := 5000
	for _, p := range []string{"platform/tools", "platform/assets", "platform/qa", "libs/gems"} {
		id++
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: id, DefaultBranch: "main"})
		if err := write(p, "README.md", "shared\n"); err != nil {
			return st, err
		}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	for i := range projects {
		path := fmt.Sprintf("big%02d/monolith%03d", i/20, i)
		id++
		inv.Projects = append(inv.Projects, &inventory.Project{Path: path, ID: id, DefaultBranch: "main"})
		files, jobs := heavyProject(r, path)
		st.jobs = jobs
		for name, content := range files {
			if err := write(path, name, content); err != nil {
				return st, err
			}
		}
	}
	data, err := inv.Marshal()
	if err != nil {
		return st, err
	}
	return st, os.WriteFile(filepath.Join(dir, inventory.FileName), data, 0o644)
}

// heavyProject returns the files of one large project and its job count.
// Every project differs (its path, names and random choices are in the
// text), so no parse is shared between projects.
func heavyProject(r *rand.Rand, path string) (map[string]string, int) {
	files := map[string]string{}
	name := path[strings.LastIndexByte(path, '/')+1:]
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	// Root: stages, workflow, global variables, default, includes.
	w("stages:\n")
	for _, s := range []string{"sync", "preflight", "prepare", "build-images", "fixtures", "lint", "test-frontend", "test", "post-test", "review", "qa", "post-qa", "pages", "notify", "release"} {
		w("  - %s\n", s)
	}
	w("\nworkflow:\n  name: '$PIPELINE_NAME'\n  rules:\n")
	for i := range heavyWorkflowRules {
		w("    # Rule %d of the pipeline matrix of %s.\n", i, name)
		switch i % 4 {
		case 0:
			w("    - if: '$CI_PIPELINE_SOURCE == \"merge_request_event\" && $CI_MERGE_REQUEST_LABELS =~ /pipeline:run-in-ruby3_%d/'\n", i)
		case 1:
			w("    - if: '$CI_COMMIT_BRANCH =~ /^[\\d-]+-stable-ee$/ && $CI_PIPELINE_SOURCE == \"schedule\" && $SCHEDULE_TYPE == \"%d\"'\n", i)
		case 2:
			w("    - if: '$CI_COMMIT_TAG =~ /^v%d\\./'\n", i)
		default:
			w("    - if: '$CI_PIPELINE_SOURCE == \"pipeline\" && $CI_COMMIT_REF_NAME == \"release-%d\"'\n", i)
		}
		w("      variables:\n        PIPELINE_NAME: '%s pipeline %d for $CI_COMMIT_REF_NAME'\n", name, i)
		if i%2 == 0 {
			w("        RUBY_VERSION: \"3.%d\"\n", i%4)
		}
		if i%3 == 0 {
			w("        NO_SOURCEMAPS: 'true'\n        CRYSTALBALL: 'true'\n")
		}
		if i%5 == 0 {
			w("        GITLAB_DEPENDENCY_PROXY_ADDRESS: \"\"\n")
		}
	}
	w("    - when: always\n\n")
	w("variables:\n")
	w("  RAILS_ENV: \"test\"\n  NODE_ENV: \"test\"\n  BUNDLE_PATH: \"vendor\"\n  BUNDLE_FROZEN: \"true\"\n  GIT_DEPTH: \"20\"\n")
	w("  REGISTRY_HOST: \"registry.gitlab.com\"\n  REGISTRY_GROUP: \"gitlab-org\"\n  RUBY_VERSION: \"3.2\"\n")
	w("  TOOLS_PROJECT: platform/tools\n  ASSETS_URL: \"${CI_API_V4_URL}/projects/platform%%2Fassets/packages/generic/assets\"\n")
	w("  QA_IMAGE: \"${CI_REGISTRY}/platform/qa/%s-qa:${CI_COMMIT_SHA}\"\n", name)
	for i := range heavyGlobalVars - 11 {
		w("  %s_SETTING_%02d: \"%s-%d-%d\"\n", strings.ToUpper(name), i, name, i, r.IntN(1000))
	}
	w("\ndefault:\n  image: \"${REGISTRY_HOST}/${REGISTRY_GROUP}/gitlab-build-images/debian-bookworm-ruby-${RUBY_VERSION}:bundler-2.5\"\n")
	w("  tags:\n    - gitlab-org\n  interruptible: true\n  retry:\n    max: 2\n    when:\n      - runner_system_failure\n      - stuck_or_timeout_failure\n\n")
	w("include:\n  - local: .gitlab/ci/rules.gitlab-ci.yml\n  - local: .gitlab/ci/global.gitlab-ci.yml\n")
	for i := range heavyIncludes {
		w("  - local: .gitlab/ci/%s/area%03d.gitlab-ci.yml\n", heavyArea(i), i)
	}
	files[".gitlab-ci.yml"] = b.String()

	// The rules file: condition anchors and hidden .rules:* jobs.
	b.Reset()
	conds := []string{"if-not-canonical-namespace", "if-merge-request", "if-default-branch-push", "if-schedule-nightly", "if-tag", "if-security-merge-request", "if-merge-request-labels-run-all", "if-stable-branch"}
	w("##############\n# Conditions #\n##############\n")
	for i, c := range conds {
		w(".%s: &%s\n  if: '$CI_PROJECT_NAMESPACE !~ /^gitlab(-org)?($|\\/)/ || $CI_COMMIT_REF_NAME =~ /-%d-/'\n\n", c, c, i)
	}
	w(".code-patterns: &code-patterns\n")
	for _, p := range []string{"app/**/*", "lib/**/*", "config/**/*", "db/**/*", "spec/**/*", "ee/**/*", "Gemfile{,.lock}", "Rakefile"} {
		w("  - \"%s\"\n", p)
	}
	w("\n")
	for i := range heavyRulesSets {
		w(".rules:area-%d:\n  rules:\n    - <<: *%s\n      when: never\n    - <<: *%s\n      changes: *code-patterns\n", i, conds[i%len(conds)], conds[(i+1)%len(conds)])
		if i%4 == 0 {
			w("      variables:\n        AREA_MODE: \"full\"\n")
		}
		w("    - <<: *%s\n      when: manual\n      allow_failure: true\n\n", conds[(i+2)%len(conds)])
	}
	files[".gitlab/ci/rules.gitlab-ci.yml"] = b.String()

	// Global hidden templates.
	b.Reset()
	w(".use-pg:\n  services:\n    - name: postgres:16\n      command: [\"postgres\", \"-c\", \"fsync=off\"]\n    - name: redis:7.0-alpine\n  variables:\n    POSTGRES_HOST_AUTH_METHOD: trust\n\n")
	w(".ruby-cache:\n  cache:\n    key: \"ruby-gems-${RUBY_VERSION}\"\n    paths: [vendor/ruby/]\n    policy: pull\n\n")
	w(".setup-test-env:\n  before_script:\n    - source scripts/utils.sh\n    - source scripts/prepare_build.sh\n    - bundle_install_script\n    - setup_db_user_only\n    - export GITLAB_TEST_EAGER_LOAD=0\n\n")
	w(".qa-tools:\n  before_script:\n    - 'curl --fail --header \"JOB-TOKEN: $CI_JOB_TOKEN\" --output tools.tgz \"${CI_API_V4_URL}/projects/platform%%2Ftools/packages/generic/tools/2.%d/tools.tgz\"'\n    - tar xzf tools.tgz\n\n", r.IntN(9))
	files[".gitlab/ci/global.gitlab-ci.yml"] = b.String()

	// scripts/utils.sh, sourced by most jobs (GitLab's is ~1,000 lines of
	// functions).
	b.Reset()
	w("#!/usr/bin/env bash\n# Shared helpers of %s.\n\n", name)
	for i := range 60 {
		w("function helper_%02d() {\n  local retries=\"${1:-3}\"\n  for i in $(seq \"$retries\"); do\n    if %s; then\n      return 0\n    fi\n    echo \"retry $i of ${FUNCNAME[0]}\"\n    sleep $((i * 2))\n  done\n  return 1\n}\n\n", i, []string{"bundle exec rake db:migrate", "yarn install --frozen-lockfile", "gem install bundler --no-document", "git fetch origin \"$CI_DEFAULT_BRANCH\""}[i%4])
	}
	w("function bundle_install_script() {\n  bundle config set --local path \"${BUNDLE_PATH}\"\n  bundle config set --local frozen \"${BUNDLE_FROZEN}\"\n  bundle install --jobs=$(nproc) --retry=3\n}\n\n")
	w("function setup_db_user_only() {\n  source scripts/create_postgres_user.sh\n}\n")
	files["scripts/utils.sh"] = b.String()
	files["scripts/prepare_build.sh"] = "#!/usr/bin/env bash\nexport SETUP_DB=${SETUP_DB:-true}\nexport USE_BUNDLE_INSTALL=${USE_BUNDLE_INSTALL:-true}\ncp config/gitlab.yml.example config/gitlab.yml\nsed -i 's/bin_path: \\/usr\\/bin\\/git/bin_path: \\/usr\\/local\\/bin\\/git/' config/gitlab.yml\n"
	files["scripts/rspec_helpers.sh"] = "#!/usr/bin/env bash\nfunction report() {\n  echo \"report for $1\"\n  ls rspec/ || true\n}\n\"$@\"\n"
	files["scripts/gitaly-test-spawn"] = "#!/usr/bin/env bash\nset -e\nmkdir -p tmp/tests/gitaly\necho \"gitaly for ${CI_PROJECT_PATH}\"\n"
	files["scripts/create_postgres_user.sh"] = "#!/usr/bin/env bash\npsql -h postgres -U postgres -c \"CREATE USER gitlab;\"\n"

	// Area files: a hidden base per file, five jobs each.
	jobs := 0
	for i := range heavyIncludes {
		b.Reset()
		area := fmt.Sprintf("area%03d", i)
		w(".%s-base:\n  extends:\n    - .ruby-cache\n    - .use-pg\n    - .setup-test-env\n  stage: test\n  variables:\n    AREA: %s\n    SUITE_FLAGS: \"--format progress --tag ~quarantine\"\n  artifacts:\n    expire_in: 31d\n    when: always\n    paths:\n      - coverage/\n      - log/*.log\n\n", area, area)
		for j := range heavyJobsPerFile {
			jobs++
			w("rspec %s %s %d:\n  extends:\n    - .%s-base\n", area, []string{"unit", "integration", "system", "migration", "background"}[j], j, area)
			if j == 4 {
				w("    - .qa-tools\n")
			}
			switch j {
			case 0:
				w("  parallel: %d\n", 2+r.IntN(20))
			case 3:
				w("  parallel:\n    matrix:\n      - DB_VERSION: [\"14\", \"15\", \"16\"]\n")
			}
			w("  rules:\n    - !reference [\".rules:area-%d\", rules]\n", (i*heavyJobsPerFile+j)%heavyRulesSets)
			if j == 2 {
				w("    - if: '$CI_MERGE_REQUEST_LABELS =~ /pipeline:expedite/'\n      variables:\n        SUITE_FLAGS: \"--fail-fast\"\n")
			}
			w("  script:\n")
			w("    - echo \"Running ${AREA} suite ${CI_NODE_INDEX}/${CI_NODE_TOTAL} of %s\"\n", name)
			w("    - scripts/setup/prepare-%s.sh\n", area)
			w("    - |\n      if [[ -n \"${CI_MERGE_REQUEST_IID}\" ]]; then\n        export RSPEC_TESTS_MAPPING_ENABLED=true\n        bundle exec tooling/bin/find_tests \"${RSPEC_CHANGED_FILES_PATH}\" \"${RSPEC_MATCHING_TESTS_PATH}\"\n      fi\n")
			w("    - bundle exec rspec ${SUITE_FLAGS} spec/%s/%d --tag level:%d\n", area, j, j)
			w("    - 'echo \"{\\\"suite\\\": \\\"%s\\\", \\\"node\\\": \\\"${CI_NODE_INDEX}\\\"}\" > rspec/meta-%d.json'\n", area, j)
			switch (i + j) % 7 {
			case 0:
				w("    - git clone --depth 1 \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/qa.git\" qa-tools\n")
			case 1:
				w("    - 'curl --fail --header \"JOB-TOKEN: ${CI_JOB_TOKEN}\" \"${ASSETS_URL}/1.%d/assets-%s.tar.gz\" | tar xz'\n", j, area)
			case 2:
				w("    - echo \"${CI_JOB_TOKEN}\" | docker login -u gitlab-ci-token --password-stdin \"${CI_REGISTRY}\"\n    - docker pull \"${QA_IMAGE}\"\n")
			case 3:
				w("    - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"${CI_API_V4_URL}/projects/${%s_PROJECT_ID}/jobs/artifacts/main/download?job=build\"'\n", strings.ToUpper(area))
			}
			w("    - scripts/gitaly-test-spawn\n    - date\n  after_script:\n    - echo \"done ${AREA} ${CI_JOB_ID}\"\n    - scripts/rspec_helpers.sh report \"${CI_JOB_NAME_SLUG}\"\n\n")
		}
		files[fmt.Sprintf(".gitlab/ci/%s/%s.gitlab-ci.yml", heavyArea(i), area)] = b.String()
		files["scripts/setup/prepare-"+area+".sh"] = "#!/usr/bin/env bash\nset -euo pipefail\nmkdir -p tmp/" + area + "\ncp -r fixtures/" + area + " tmp/" + area + "/\n"
	}
	return files, jobs
}

func heavyArea(i int) string {
	return []string{"rails", "frontend", "qa", "review-apps", "setup", "static-analysis", "database", "docs"}[i%8]
}

// TestHeavyOrgShape keeps the benchmark honest: its configuration is read
// without errors, has the advertised size, and its findings survive.
func TestHeavyOrgShape(t *testing.T) {
	dir := t.TempDir()
	st, err := writeHeavyOrg(dir, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	res, err := Discover(context.Background(), snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Diags {
		t.Errorf("diagnostic: %s", d)
	}
	if st.jobs < 500 {
		t.Errorf("%d jobs per project", st.jobs)
	}
	g, _, _ := Scan(context.Background(), snap, Options{})
	t.Logf("%d files, %d bytes; %d edges, %d unresolved, %d notes", st.files, st.bytes, len(g.Edges), len(g.Unresolved), len(g.Notes))
	for _, want := range []string{"big00/monolith000 → platform/qa", "big00/monolith000 → platform/assets", "big00/monolith000 → platform/tools"} {
		found := false
		for _, e := range g.Edges {
			if e.Caller+" → "+e.Callee == want {
				found = true
				if n := len(e.Uses[0].Evidence.Variants.List()); n < heavyWorkflowRules {
					t.Errorf("%s: %d variants on the first use", want, n)
				}
			}
		}
		if !found {
			t.Errorf("no edge %s", want)
		}
	}
}

// BenchmarkHeavyProject scans one project of BenchmarkHeavyOrg on one
// worker: a steadier figure for comparing changes on a busy machine (take
// the minimum of a few runs).
func BenchmarkHeavyProject(b *testing.B) {
	dir := b.TempDir()
	if _, err := writeHeavyOrg(dir, 1, 1); err != nil {
		b.Fatal(err)
	}
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	for b.Loop() {
		if _, _, err := Scan(context.Background(), snap, Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
