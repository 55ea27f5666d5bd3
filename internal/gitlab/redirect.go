package gitlab

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The GitLab token never leaves the GitLab host.
//
// net/http follows redirects and copies the first request's headers onto
// each hop. It drops Authorization and Cookie only when the new host is
// neither the original host nor a subdomain of it, and it compares host
// names without ports (https://pkg.go.dev/net/http#Client: all headers
// are forwarded except "sensitive headers like "Authorization",
// "WWW-Authenticate", and "Cookie" to untrusted targets. These headers
// will be ignored when following a redirect to a domain that is not a
// subdomain match or exact match of the initial domain"). Every other
// header is forwarded, and client-go sends the token in PRIVATE-TOKEN, so
// a GitLab (or anything in front of it) answering 302 Location:
// https://elsewhere/ would hand the token to elsewhere; a redirect to
// another port of the same host keeps even Authorization.
// TestRedirectKeepsToken shows both.
//
// checkRedirect therefore refuses, before the hop is sent, any redirect to
// another origin (scheme, host and port, https://www.rfc-editor.org/rfc/rfc6454)
// than the request's.
// Stripping the token and following instead would turn a misdirection into
// confusing 401s or, worse, data read anonymously from another server.
// GitLab's API does not redirect across origins in what tokenscope reads:
// the REST and GraphQL endpoints answer in place (job logs are served, not
// redirected to object storage). The one cross-origin redirect a real
// instance sends is http→https on the same host, from a --gitlab URL typed
// with http://; that is refused too, with a hint, because following it
// would send the token in clear text on every request before the upgrade:
// the fix is to give the https URL once.
//
// Same-origin redirects are followed, at most maxRedirects in a row, as
// net/http's default policy does (a CheckRedirect replaces it).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	from, to := via[0].URL, req.URL
	if origin(from) != origin(to) {
		return &redirectError{From: originString(from), To: originString(to)}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// maxRedirects is net/http's default limit.
const maxRedirects = 10

// redirectError is a redirect that was not followed because it leads to
// another origin than the GitLab URL. It names the origins only (scheme,
// host, port): no path, query or header, so neither the token nor a signed
// Location can show in the message.
type redirectError struct {
	From, To string // e.g. "https://gitlab.example.com", "https://other.example.com:8443"
}

func (e *redirectError) Error() string {
	msg := fmt.Sprintf("GitLab at %s redirected to %s; tokenscope does not follow redirects to another scheme, host or port, so the token is not sent there", e.From, e.To)
	if f, t, ok := strings.Cut(e.From, "://"); ok && f == "http" && strings.HasPrefix(e.To, "https://") && hostOnly(t) == hostOnly(strings.TrimPrefix(e.To, "https://")) {
		msg += "; give the https:// URL (--gitlab or GITLAB_URL)"
	}
	return msg
}

// isRedirectRefused reports whether err is a refused redirect: retrying
// would only be refused again.
func isRedirectRefused(err error) bool {
	var re *redirectError
	return errors.As(err, &re)
}

// origin is u's scheme, host name and port, with the scheme's default
// port filled in and case folded, so https://GitLab.example.com and
// https://gitlab.example.com:443 are one origin.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// originString is u without user info, path, query or fragment.
func originString(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// hostOnly is the host name of "host[:port]".
func hostOnly(hostport string) string {
	return strings.ToLower((&url.URL{Host: hostport}).Hostname())
}
