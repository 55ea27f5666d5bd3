package gitlab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// RetryError is a request that still failed when its retries ran out. It
// says what a user can act on (route, status, how many tries) and never
// carries the body: after a 502/503 that is a proxy's HTML page, which
// says nothing the status does not and can fill a terminal.
type RetryError struct {
	Method string
	Path   string // URL path only: a query may carry a token
	Status int    // 0 when no answer came back
	Tries  int
	Err    error // transport failure, when Status is 0
}

func (e *RetryError) Error() string {
	tries := "1 try"
	if e.Tries != 1 {
		tries = fmt.Sprintf("%d tries", e.Tries)
	}
	if e.Status != 0 {
		return fmt.Sprintf("%s %s answered HTTP %d %s after %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), tries)
	}
	return fmt.Sprintf("%s %s failed after %s: %v", e.Method, e.Path, tries, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// ConnectError is a GitLab that could not be reached at all: the
// connection was refused or the host name does not resolve. It is not
// retried (a mistyped --gitlab would otherwise wait through every backoff
// in silence) and names the address so the user can check it.
type ConnectError struct {
	Host string
	Err  error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot connect to GitLab at %s: %v (check --gitlab / GITLAB_URL and that GitLab is up)", e.Host, cause(e.Err))
}

func (e *ConnectError) Unwrap() error { return e.Err }

// cause strips the url.Error and net.OpError wrappers, whose text repeats
// the method and URL that the ConnectError already names.
func cause(err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("no such host %s", dns.Name)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return syscall.ECONNREFUSED
	}
	return err
}

// unreachable reports whether err means nothing listens at the address:
// retrying cannot help within the seconds a retry waits.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// exhausted is client-go's ErrorHandler: it is called with the last answer
// when retries ran out (or were refused by checkRetry) and turns it into a
// RetryError or ConnectError.
func exhausted(resp *http.Response, err error, tries int) (*http.Response, error) {
	if err != nil {
		// A refused redirect comes with the redirect's response; the
		// error is what explains it.
		if resp != nil {
			resp.Body.Close()
		}
		if !unreachable(err) {
			if tries > 1 && !isRedirectRefused(err) {
				return nil, fmt.Errorf("%w (after %d tries)", err, tries)
			}
			return nil, err
		}
		host := ""
		var op *net.OpError
		if errors.As(err, &op) && op.Addr != nil {
			host = op.Addr.String()
		}
		var dns *net.DNSError
		if errors.As(err, &dns) {
			host = dns.Name
		}
		return nil, &ConnectError{Host: host, Err: err}
	}
	if resp == nil {
		return nil, fmt.Errorf("no answer after %d tries", tries)
	}
	// Drain a little so the connection can be reused; the body is not
	// shown.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	resp.Body.Close()
	re := &RetryError{Status: resp.StatusCode, Tries: tries}
	if r := resp.Request; r != nil {
		re.Method, re.Path = r.Method, r.URL.Path
	}
	return nil, re
}

// notJSON reports the message client-go makes of an error body that is
// not GitLab's JSON (a proxy's or load balancer's HTML page), which would
// otherwise be printed whole.
func notJSON(err error) (*gl.ErrorResponse, bool) {
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && strings.HasPrefix(er.Message, "failed to parse unknown error format") {
		return er, true
	}
	return nil, false
}

// plainFailure words an answer whose body was not GitLab's JSON by its
// status and route alone.
func plainFailure(er *gl.ErrorResponse) string {
	r := er.Response
	what := fmt.Sprintf("HTTP %d %s", r.StatusCode, http.StatusText(r.StatusCode))
	if r.Request != nil {
		what = r.Request.Method + " " + r.Request.URL.Path + " answered " + what
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		what += " (a " + strings.TrimSpace(strings.Split(ct, ";")[0]) + " page, not GitLab's API: is a proxy in front of it?)"
	}
	return what
}
