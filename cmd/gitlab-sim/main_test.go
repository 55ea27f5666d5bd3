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
