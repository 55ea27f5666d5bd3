package gitlab_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

const token = "glpat-e2e-Tok3nValue-0123456789"

func acme(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "acme")
}

func client(t testing.TB, url string, o gitlab.Options) *gitlab.Client {
	t.Helper()
	o.URL, o.Token = url, token
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin, o.RetryWaitMax = 5*time.Millisecond, 200*time.Millisecond
	}
	c, err := gitlab.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A self-managed GitLab behind a private CA: trusted with CAFile, refused
// without it.
func TestCustomCA(t *testing.T) {
	s, err := sim.Load(acme(t), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := client(t, srv.URL, gitlab.Options{RetryMax: 1}).Version(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted CA accepted: %v", err)
	}
	v, err := client(t, srv.URL, gitlab.Options{CAFile: ca}).Version(context.Background())
	if err != nil || v.String() != "18.5" {
		t.Errorf("with the CA: %v, %v", v, err)
	}
	if _, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: token, CAFile: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Error("missing CA file accepted")
	}
}

// Option problems are typed, so that the command line can word them with
// its own flag names.
func TestOptionErrorsAreTyped(t *testing.T) {
	if _, err := gitlab.New(gitlab.Options{Token: token}); !errors.Is(err, gitlab.ErrNoURL) {
		t.Errorf("no URL: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o600)
	_, err := gitlab.New(gitlab.Options{URL: "https://gitlab.example.com", Token: token, CAFile: empty})
	var ce *gitlab.CAFileError
	if !errors.As(err, &ce) || ce.File != empty || !errors.Is(err, gitlab.ErrNoPEM) {
		t.Errorf("no PEM: %v", err)
	}
	_, err = gitlab.New(gitlab.Options{URL: "https://gitlab.example.com", Token: token, CAFile: filepath.Join(t.TempDir(), "none.pem")})
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
