package sim_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// Tokens of the test org. Their values only matter to the simulator.
const (
	tokMaint = "glpat-maintainer"
	tokDev   = "glpat-developer"
	tokGuest = "glpat-guest"
	tokAdmin = "glpat-admin"
	tokNone  = "glpat-nobody"
	// tokWebMaint maintains apps/web and sees nothing private elsewhere.
	tokWebMaint = "glpat-web-maintainer"
)

var testTokens = []sim.Token{
	{Value: tokMaint, Username: "maint", Role: sim.RoleMaintainer},
	{Value: tokDev, Username: "dev", Role: sim.RoleDeveloper, Roles: map[string]sim.Role{"apps/web": sim.RoleMaintainer}},
	{Value: tokGuest, Username: "guest", Roles: map[string]sim.Role{"platform/build-scripts": sim.RoleGuest}},
	{Value: tokAdmin, Username: "admin", Admin: true},
	{Value: tokNone, Username: "nobody"},
	{Value: tokWebMaint, Username: "webmaint", Roles: map[string]sim.Role{"apps/web": sim.RoleMaintainer}},
}

// genProjects is how many extra projects libs/ has, enough for three
// pages of 20.
const genProjects = 45

// writeOrg writes the test org: a snapshot directory with an inventory,
// repository files and a job log.
func writeOrg(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString(`version: 1
server_url: https://gitlab.test.example
gitlab_version: "18.5"
groups:
  - {path: platform, id: 10}
  - {path: libs, id: 20}
  - {path: apps, id: 30}
projects:
  - path: platform/build-scripts
    id: 102
    visibility: private
    default_branch: main
    job_token_scope:
      inbound_enabled: true
      allowlist:
        projects:
          - {path: apps/web}
        groups:
          - {path: apps}
  - path: platform/base-images
    id: 103
    visibility: private
    default_branch: main
    job_token_scope:
      inbound_enabled: true
      allowlist:
        projects:
          - {path: apps/web, policies: [read_packages, read_jobs]}
  - path: apps/web
    id: 301
    visibility: private
    default_branch: main
  - path: apps/team/api
    id: 305
    visibility: internal
    default_branch: develop
    ci_config_path: ci/pipeline.yml
  - path: apps/old
    id: 306
    visibility: private
    archived: true
  - path: libs/jslib
    id: 201
    visibility: public
    default_branch: main
    auth_log:
      - {origin: apps/web, last_authorized_at: 2026-11-20T08:15:00Z}
      - {origin: apps/team/api, last_authorized_at: 2026-10-01T10:00:00Z}
  - path: libs/pylib
    id: 202
    visibility: private
`)
	for i := range genProjects {
		fmt.Fprintf(&inv, "  - {path: libs/gen-%02d, id: %d, visibility: private}\n", i, 1000+i)
	}
	files := map[string]string{
		"inventory.yaml":                                inv.String(),
		"platform/build-scripts/.gitlab-ci.yml":         "build:\n  script: [./scripts/build.sh]\n",
		"platform/build-scripts/README.md":              "# build scripts\n",
		"platform/build-scripts/scripts/build.sh":       "#!/bin/sh\necho build\n",
		"platform/build-scripts/scripts/lib/common.sh":  "common() { :; }\n",
		"platform/build-scripts/scripts/lib/binary.bin": "\x00\x01\x02",
		"platform/base-images/.gitlab-ci.yml":           "images:\n  script: [docker build .]\n",
		"apps/web/.gitlab-ci.yml":                       "test:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.test.example/platform/build-scripts.git\n",
		"apps/web/.npmrc":                               "@acme:registry=https://gitlab.test.example/api/v4/projects/201/packages/npm/\n",
		"apps/team/api/.gitlab-ci.yml":                  "include: ci/pipeline.yml\n",
		"apps/team/api/ci/pipeline.yml":                 "lint:\n  script: [make lint]\n",
		"apps/old/.gitlab-ci.yml":                       "old:\n  script: [true]\n",
		"libs/jslib/.gitlab-ci.yml":                     "publish:\n  script: [npm publish]\n",
		"_jobs/apps/web/4711.log":                       "Cloning into 'build-scripts'...\nremote: Authentication by CI/CD job token not allowed from web to build-scripts.\nfatal: unable to access 'https://gitlab.test.example/platform/build-scripts.git/': The requested URL returned error: 403\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start serves the test org with opts (tokens default to testTokens) on
// 127.0.0.1 and returns the simulator and its base URL.
func start(t testing.TB, opts sim.Options) (*sim.Server, string) {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = testTokens
	}
	s, err := sim.Load(writeOrg(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run.Close()
		s.Close()
	})
	return s, run.URL
}

// recorder keeps the status and body of the last response, so that tests
// can check GitLab's exact messages even where client-go hides them (404).
type recorder struct {
	mu     sync.Mutex
	status int
	body   string
	header http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	r.mu.Lock()
	r.status, r.body, r.header = resp.StatusCode, string(data), resp.Header.Clone()
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) last() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, strings.TrimSpace(r.body)
}

// client returns a client-go client for token (PRIVATE-TOKEN; "" for
// anonymous) without retries, and the recorder of its responses.
func client(t testing.TB, base, token string, opts ...gitlab.ClientOptionFunc) (*gitlab.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	all := append([]gitlab.ClientOptionFunc{
		gitlab.WithBaseURL(base + "/api/v4"),
		gitlab.WithHTTPClient(&http.Client{Transport: rec}),
		gitlab.WithoutRetries(),
	}, opts...)
	c, err := gitlab.NewClient(token, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// wantResponse checks the last response's status and body.
func wantResponse(t *testing.T, rec *recorder, status int, body string) {
	t.Helper()
	gotStatus, gotBody := rec.last()
	if gotStatus != status || gotBody != body {
		t.Errorf("response = %d %s; want %d %s", gotStatus, gotBody, status, body)
	}
}

func ptr[T any](v T) *T { return &v }

// raw sends a request outside client-go, for inputs client-go cannot
// produce, and returns the status and trimmed body.
func raw(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	resp, data := do(t, method, url, token, body)
	return resp.StatusCode, data
}

// externalURL is the test org's server_url: GitLab's external_url.
const externalURL = "https://gitlab.test.example"
