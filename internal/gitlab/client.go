package gitlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	gl "gitlab.com/gitlab-org/api/client-go"
	"golang.org/x/time/rate"

	"github.com/tokenscope/tokenscope/internal/redact"
)

// Options configure a Client.
type Options struct {
	// URL is the GitLab instance, e.g. https://gitlab.example.com.
	URL string
	// Token is a personal, group or project access token with read_api.
	// It is sent in the PRIVATE-TOKEN header and never logged or echoed.
	Token string
	// CAFile is a PEM bundle of extra certificate authorities to trust
	// (self-managed instances behind a private CA).
	CAFile string
	// Concurrency bounds the requests in flight (default 8).
	Concurrency int
	// RetryMax is how often a request is retried on 429, 5xx, timeouts and
	// dropped connections (default 8).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff between retries when
	// the server does not say how long to wait (default 250ms and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// Timeout bounds one HTTP attempt (default 60s).
	Timeout time.Duration
	// Transport replaces the HTTP transport (tests); CAFile is then ignored.
	Transport http.RoundTripper
}

// Client reads from one GitLab instance. It is safe for concurrent use.
type Client struct {
	gl      *gl.Client
	base    *url.URL
	token   string
	sem     chan struct{}
	pacer   *pacer
	counter *countingTransport
}

// ErrNoURL is returned by New without a URL; the caller says where one
// comes from.
var ErrNoURL = errors.New("no GitLab URL")

// ErrNoPEM is a CAFileError's Err when the file holds no PEM certificate.
var ErrNoPEM = errors.New("no PEM certificate found")

// CAFileError is a certificate authority file that cannot be used: Err is
// the read error, or ErrNoPEM. The caller words it with the option that
// named the file.
type CAFileError struct {
	File string
	Err  error
}

func (e *CAFileError) Error() string { return "CA file " + e.File + ": " + e.Err.Error() }

func (e *CAFileError) Unwrap() error { return e.Err }

// New builds a client. It makes no request.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		return nil, ErrNoURL
	}
	// Users paste the API URL as often as the instance URL.
	raw := strings.TrimSuffix(strings.TrimRight(o.URL, "/"), "/api/v4")
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("GitLab URL %q is not an http(s) URL like https://gitlab.example.com", redact.String(o.URL))
	}
	if base.User != nil {
		return nil, errors.New("the GitLab URL must not carry credentials; set GITLAB_TOKEN instead")
	}
	if o.Token == "" {
		return nil, errors.New("no GitLab token: set GITLAB_TOKEN to a token with the read_api scope (Maintainer on the projects to read their job token settings)")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 8
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = 250 * time.Millisecond
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	rt := o.Transport
	if rt == nil {
		t := cleanhttp.DefaultPooledTransport()
		t.MaxIdleConnsPerHost = o.Concurrency
		if o.CAFile != "" {
			pool, err := loadCA(o.CAFile)
			if err != nil {
				return nil, err
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		rt = t
	}
	c := &Client{base: base, token: o.Token, sem: make(chan struct{}, o.Concurrency), pacer: &pacer{reserve: o.Concurrency}}
	c.counter = &countingTransport{next: &pacingTransport{next: rt, p: c.pacer}}
	httpClient := &http.Client{Transport: c.counter, Timeout: o.Timeout, CheckRedirect: checkRedirect}
	c.gl, err = gl.NewClient(o.Token,
		gl.WithBaseURL(base.String()),
		gl.WithHTTPClient(httpClient),
		gl.WithCustomRetry(checkRetry),
		gl.WithErrorHandler(exhausted),
		gl.WithCustomBackoff(backoff),
		gl.WithCustomRetryMax(o.RetryMax),
		gl.WithCustomRetryWaitMinMax(o.RetryWaitMin, o.RetryWaitMax),
		gl.WithUserAgent("tokenscope"),
		// client-go would otherwise spread requests at two thirds of
		// RateLimit-Limit from the first response on, whatever the budget
		// left; the pacer waits only when GitLab says the window is nearly
		// spent, and 429s wait as Retry-After says.
		gl.WithCustomLimiter(rate.NewLimiter(rate.Inf, 0)),
	)
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %s", c.redact(err.Error()))
	}
	return c, nil
}

func loadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, &CAFileError{File: file, Err: err}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &CAFileError{File: file, Err: ErrNoPEM}
	}
	return pool, nil
}

// URL returns the instance URL.
func (c *Client) URL() string { return c.base.String() }

// Requests returns the HTTP requests sent so far, retries included.
func (c *Client) Requests() int64 { return c.counter.n.Load() }

// acquire takes a concurrency slot.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.sem }

// redact removes the token and any secret-looking value from text that may
// reach the user.
func (c *Client) redact(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, redact.Mask)
	}
	return redact.String(s)
}

// apiError wraps a failed call with what was being read, redacted.
func (c *Client) apiError(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	if er, ok := notJSON(err); ok {
		msg = plainFailure(er)
	}
	return &APIError{What: what, Status: statusOf(err), Msg: c.redact(msg), err: err}
}

// APIError is a request that failed after retries.
type APIError struct {
	What   string // what was being read, e.g. "list projects of group platform"
	Status int    // HTTP status, 0 for transport failures
	Msg    string // redacted
	err    error
}

func (e *APIError) Error() string { return e.What + ": " + e.Msg }

// Unwrap returns the client-go error (gl.ErrNotFound, *gl.ErrorResponse...).
func (e *APIError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if errors.Is(err, gl.ErrNotFound) {
		return http.StatusNotFound
	}
	var re *RetryError
	if errors.As(err, &re) {
		return re.Status
	}
	return 0
}

// checkRetry retries dropped connections and timeouts too, which
// client-go's default refuses for POST. That is safe for every request
// tokenscope sends: reads (GET, GraphQL queries over POST) and the
// allowlist writes of write.go, which are idempotent: a repeated add or
// removal is answered "already" (the plan's Done texts) and apply counts
// it so, and PATCH enabled=true twice is the same state.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return !isRedirectRefused(err) && !unreachable(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode == 0 || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented):
		return true, nil
	}
	return false, nil
}

// maxServerWait caps how long a Retry-After or RateLimit-Reset may make us
// wait for one retry; beyond it the user is better served by an error.
const maxServerWait = 5 * time.Minute

// backoff waits as long as GitLab asks (Retry-After in seconds or as an
// HTTP date, else RateLimit-Reset on a 429), else exponentially with full
// jitter between min and max.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := serverWait(resp, time.Now()); ok {
			return d
		}
	}
	d := minWait << min(attempt, 20)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	return minWait + rand.N(d-minWait+1)
}

// serverWait reads how long the server asked us to wait.
func serverWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxServerWait), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return min(max(t.Sub(now), 0), maxServerWait), true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if v := resp.Header.Get("RateLimit-Reset"); v != "" {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				return min(max(time.Unix(s, 0).Sub(now), 0), maxServerWait), true
			}
		}
	}
	return 0, false
}

// countingTransport counts HTTP attempts (the figure the benchmark reports).
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// pacer holds requests back when GitLab says the rate-limit window is
// nearly spent (RateLimit-Remaining at or below the requests we may have
// in flight), until the window resets (RateLimit-Reset). Shared by all
// workers, so concurrency never overruns the limit.
type pacer struct {
	reserve int
	mu      sync.Mutex
	until   time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	d := time.Until(p.until)
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pacer) observe(h http.Header, now time.Time) {
	rem, err1 := strconv.Atoi(h.Get("RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || rem > p.reserve {
		return
	}
	until := time.Unix(reset, 0)
	if until.Sub(now) > maxServerWait {
		until = now.Add(maxServerWait)
	}
	p.mu.Lock()
	if until.After(p.until) {
		p.until = until
	}
	p.mu.Unlock()
}

type pacingTransport struct {
	next http.RoundTripper
	p    *pacer
}

func (t *pacingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.p.wait(r.Context()); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.p.observe(resp.Header, time.Now())
	}
	return resp, err
}
