package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The command serves /api/v4/version on the address it prints, refuses
// other tokens, and never prints the token.
func TestServesVersion(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "g", "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "g", "p", ".gitlab-ci.yml"), []byte("x:\n  script: [true]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "glpat-cmd-test-secret"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--org", dir, "--addr", "127.0.0.1:0", "--version", "17.8", "--token", secret + "=maintainer"}, pw, &stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var out []string
	url := ""
	for url == "" && sc.Scan() {
		out = append(out, sc.Text())
		if strings.HasPrefix(sc.Text(), "http://127.0.0.1:") {
			url = sc.Text()
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		cancel()
		t.Fatalf("no URL printed: %q, %v, stderr %s", out, <-done, stderr.String())
	}
	get := func(token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", url+"/api/v4/version", nil)
		req.Header.Set("PRIVATE-TOKEN", token)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := get(secret); status != 200 || body["version"] != "17.8.0" {
		t.Errorf("GET /version = %d %v; want 200 17.8.0", status, body)
	}
	if status, _ := get("glpat-other"); status != 401 {
		t.Errorf("unknown token: %d; want 401", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if strings.Contains(strings.Join(out, "\n")+stderr.String(), secret) {
		t.Error("the token was printed")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--org", t.TempDir(), "--rate-limit", "ten/s"},
		{"--org", t.TempDir(), "--token", "nobody"},
		{"--org", filepath.Join(t.TempDir(), "missing")},
	} {
		var stderr strings.Builder
		if err := run(context.Background(), args, io.Discard, &stderr); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// serve runs the command with args on a free port and returns its URL
// and a function that stops it.
func serve(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "g", "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "g", "p", ".gitlab-ci.yml"), []byte("x:\n  script: [true]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--org", dir, "--addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	url := ""
	for url == "" && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "http://127.0.0.1:") {
			url = sc.Text()
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		cancel()
		t.Fatalf("no URL printed: %v", <-done)
	}
	return url, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

// From 18.0 the instance enforces allowlists by default; an explicit
// --instance-enforces-allowlist=false turns that off.
func TestInstanceEnforcementFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--version", "18.5"}, true},
		{[]string{"--version", "18.5", "--instance-enforces-allowlist=false"}, false},
		{[]string{"--version", "17.9"}, false},
		{[]string{"--version", "17.9", "--instance-enforces-allowlist"}, true},
	} {
		url, stop := serve(t, tc.args...)
		req, _ := http.NewRequest("GET", url+"/api/v4/application/settings", nil)
		req.Header.Set("PRIVATE-TOKEN", "any") // open mode: an administrator
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if body["enforce_ci_inbound_job_token_scope_enabled"] != tc.want {
			t.Errorf("%v: settings %v; want enforcement %v", tc.args, body, tc.want)
		}
		stop()
	}
}

// The command serves the simulator's job tokens: POST /-/sim/jobs, then
// git smart HTTP with the token until the job finishes.
func TestServesJobTokens(t *testing.T) {
	url, stop := serve(t, "--version", "18.5")
	defer stop()
	c := &http.Client{Timeout: 5 * time.Second}
	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
		req.Header.Set("PRIVATE-TOKEN", "any") // open mode: an administrator
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, job := post("/-/sim/jobs", `{"project":"g/p"}`)
	token, _ := job["token"].(string)
	if status != http.StatusCreated || token == "" {
		t.Fatalf("POST /-/sim/jobs = %d %v", status, job)
	}
	clone := func() int {
		req, _ := http.NewRequest("GET", url+"/g/p.git/info/refs?service=git-upload-pack", nil)
		req.SetBasicAuth("gitlab-ci-token", token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := clone(); got != http.StatusOK {
		t.Errorf("clone while running = %d", got)
	}
	if status, _ := post("/-/sim/jobs/1/finish", ""); status != http.StatusOK {
		t.Errorf("finish = %d", status)
	}
	if got := clone(); got != http.StatusUnauthorized {
		t.Errorf("clone after finish = %d", got)
	}
}
