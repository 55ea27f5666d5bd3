package gitlab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testToken looks like a personal access token so redact would mask it
// too; the test checks the raw value never shows.
const testToken = "glpat-redirecttest0123456789"

// recorder is the "other" server: it records the credentials it is sent.
type recorder struct {
	mu   sync.Mutex
	hits []http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.hits = append(r.hits, req.Header.Clone())
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"version":"18.5.0"}`))
}

func (r *recorder) seen() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// redirector answers every request with a 302 to target plus the path,
// with the token in the query for good measure: a hostile server knows it
// once it has been sent.
func redirector(t *testing.T, target string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path+"?private_token="+url.QueryEscape(r.Header.Get("Private-Token")), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRedirectKeepsToken: the two servers share 127.0.0.1 and differ by
// port, which net/http treats as the same host.
func TestRedirectKeepsToken(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	t.Cleanup(otherSrv.Close)
	gitlabSrv := redirector(t, otherSrv.URL)

	t.Run("net/http alone forwards the token", func(t *testing.T) {
		// Why checkRedirect exists: with the default policy, the custom
		// PRIVATE-TOKEN header, and on a port change even Authorization,
		// reach the other server.
		req, _ := http.NewRequest(http.MethodGet, gitlabSrv.URL+"/api/v4/version", nil)
		req.Header.Set("Private-Token", testToken)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hits := other.seen()
		if len(hits) != 1 {
			t.Fatalf("other server saw %d requests, want 1", len(hits))
		}
		if hits[0].Get("Private-Token") != testToken || hits[0].Get("Authorization") == "" {
			t.Errorf("net/http no longer forwards the token across ports (headers %v): update the comment in redirect.go", hits[0])
		}
		other.mu.Lock()
		other.hits = nil
		other.mu.Unlock()
	})

	t.Run("tokenscope refuses", func(t *testing.T) {
		c, err := New(Options{URL: gitlabSrv.URL, Token: testToken, RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(context.Background())
		if err == nil {
			t.Fatal("Version followed a redirect to another origin")
		}
		if n := len(other.seen()); n != 0 {
			t.Errorf("other server saw %d requests, want none", n)
		}
		var re *redirectError
		if !errors.As(err, &re) {
			t.Errorf("error %v is not a redirectError", err)
		}
		msg := err.Error()
		if strings.Contains(msg, testToken) {
			t.Errorf("error shows the token: %s", msg)
		}
		for _, want := range []string{"GitLab at " + gitlabSrv.URL, "redirected to " + otherSrv.URL, "not sent there"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		// Not retried: it would be refused again.
		if n := c.Requests(); n != 1 {
			t.Errorf("sent %d requests, want 1", n)
		}
	})
}

// Same-origin redirects are still followed, with the token.
func TestRedirectSameOriginFollowed(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/moved/version" {
			http.Redirect(w, r, "/moved/version", http.StatusMovedPermanently)
			return
		}
		got = r.Header.Get("Private-Token")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":"18.5.0"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Version(context.Background())
	if err != nil || v != (Version{18, 5}) {
		t.Fatalf("Version = %v, %v", v, err)
	}
	if got != testToken {
		t.Errorf("same-origin hop got token %q", got)
	}
}

func TestCheckRedirect(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
		hint     bool
	}{
		{"https://gitlab.example.com/api/v4/x", "https://gitlab.example.com/api/v4/y", true, false},
		{"https://gitlab.example.com/x", "https://GitLab.Example.com:443/y", true, false},
		{"http://gitlab.example.com/x", "http://gitlab.example.com:80/y", true, false},
		{"https://gitlab.example.com/x", "https://other.example.com/x", false, false},
		{"https://gitlab.example.com/x", "https://sub.gitlab.example.com/x", false, false},
		{"https://gitlab.example.com/x", "https://gitlab.example.com:8443/x", false, false},
		{"https://gitlab.example.com/x", "http://gitlab.example.com/x", false, false},
		{"http://gitlab.example.com/x", "https://gitlab.example.com/x", false, true},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8081/x", false, false},
	} {
		from, _ := http.NewRequest(http.MethodGet, tc.from, nil)
		to, _ := http.NewRequest(http.MethodGet, tc.to, nil)
		to.Header.Set("Private-Token", testToken)
		err := checkRedirect(to, []*http.Request{from})
		if (err == nil) != tc.ok {
			t.Errorf("%s -> %s: err %v, want ok=%v", tc.from, tc.to, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, testToken) || strings.Contains(msg, "/x") {
			t.Errorf("%s -> %s: message shows more than origins: %s", tc.from, tc.to, msg)
		}
		if hint := strings.Contains(msg, "give the https:// URL"); hint != tc.hint {
			t.Errorf("%s -> %s: hint %v, want %v: %s", tc.from, tc.to, hint, tc.hint, msg)
		}
	}
	// The loop limit net/http's default policy has is kept.
	req, _ := http.NewRequest(http.MethodGet, "https://gitlab.example.com/x", nil)
	via := make([]*http.Request, maxRedirects)
	for i := range via {
		via[i] = req
	}
	if err := checkRedirect(req, via); err == nil {
		t.Error("no limit on same-origin redirects")
	}
}
