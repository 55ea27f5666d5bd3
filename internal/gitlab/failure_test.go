package gitlab_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
)

// A proxy that keeps answering 503 with an HTML page: the error names the
// route, the status and the tries, and none of the page.
func TestRetriesExhaustedSaysWhatAndHowOften(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>"))
	}))
	defer srv.Close()
	_, err := client(t, srv.URL, gitlab.Options{RetryMax: 2}).Version(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"GET /api/v4/version", "HTTP 503 Service Unavailable", "after 3 tries"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "<") || strings.Contains(msg, "No server") {
		t.Errorf("message carries the HTML page: %s", msg)
	}
	if hits.Load() != 3 {
		t.Errorf("%d requests, want 3", hits.Load())
	}
	var ae *gitlab.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Errorf("status not kept: %#v", err)
	}
}

// A 403 page from a proxy (not retried) is worded by status, not body.
func TestHTMLErrorPageNotPrinted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<html><body>Access denied by WAF rule 942100</body></html>"))
	}))
	defer srv.Close()
	_, err := client(t, srv.URL, gitlab.Options{}).Version(context.Background())
	if err == nil || strings.Contains(err.Error(), "WAF") || !strings.Contains(err.Error(), "HTTP 403 Forbidden") || !strings.Contains(err.Error(), "text/html page") {
		t.Errorf("got %v", err)
	}
}

// Nothing listens: the error comes at once (no backoff in silence) and
// names the address.
func TestConnectionRefusedIsQuickAndNamed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = client(t, "http://"+addr, gitlab.Options{RetryMax: 8, RetryWaitMin: time.Second, RetryWaitMax: 5 * time.Second}).Version(context.Background())
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	var ce *gitlab.ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("got %v", err)
	}
	if strings.Count(err.Error(), addr) != 1 {
		t.Errorf("address repeated: %v", err)
	}
}
