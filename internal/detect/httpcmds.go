package detect

// HTTP requests as curl, wget and HTTPie command lines describe them,
// shared by the families that read requests (api, tokens).

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// request is an HTTP request as a command line describes it.
type request struct {
	urls    []shell.Word
	method  string
	headers []string // "Name: value", expanded
	fields  []string // form/body fields "name=value", expanded
	user    *credential
	// netrc: the tool sends .netrc credentials for the host (curl -n,
	// wget always).
	netrc bool
}

var curlSpec = optSpec{value: opts("dFHXuoTeAbcEKwxUrmyYzCDQtP", "data", "data-raw", "data-binary", "data-ascii",
	"data-urlencode", "form", "form-string", "header", "request", "user", "output", "upload-file", "url", "referer",
	"user-agent", "cookie", "cookie-jar", "cert", "config", "write-out", "proxy", "proxy-user", "range", "max-time",
	"connect-timeout", "retry", "retry-delay", "retry-max-time", "cacert", "capath", "key", "key-type", "cert-type",
	"output-dir", "limit-rate", "max-filesize", "resolve", "connect-to", "interface", "dns-servers", "oauth2-bearer",
	"json", "variable", "netrc-file", "noproxy", "pass", "pinnedpubkey", "proto", "proto-default", "proto-redir",
	"quote", "request-target", "stderr", "trace", "trace-ascii", "unix-socket", "abstract-unix-socket", "url-query",
	"etag-save", "etag-compare", "hsts", "alt-svc", "doh-url", "expect100-timeout", "create-file-mode", "ciphers",
	"tls-max", "keepalive-time", "local-port", "max-redirs", "speed-limit", "speed-time", "time-cond", "aws-sigv4"),
}

func parseCurl(args []shell.Word) request {
	p := curlSpec.parse(args)
	r := request{urls: append(p.all("--url"), p.pos...)}
	for _, h := range p.all("-H", "--header") {
		r.headers = append(r.headers, h.Value)
	}
	if b, ok := p.last("--oauth2-bearer"); ok {
		r.headers = append(r.headers, "Authorization: Bearer "+b.Value)
	}
	data := p.all("-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode")
	for _, d := range data {
		r.fields = append(r.fields, strings.Split(d.Value, "&")...)
	}
	forms := p.all("-F", "--form", "--form-string")
	for _, f := range forms {
		r.fields = append(r.fields, f.Value)
	}
	if u, ok := p.last("-u", "--user"); ok {
		user, pass, _ := strings.Cut(u.Value, ":")
		r.user = &credential{User: user, Secret: pass, Where: "-u"}
	}
	r.netrc = p.has("-n", "--netrc", "--netrc-optional")
	switch {
	case p.has("-X", "--request"):
		m, _ := p.last("-X", "--request")
		r.method = strings.ToUpper(m.Value)
	case p.has("-I", "--head"):
		r.method = "HEAD"
	case p.has("-G", "--get"):
		r.method = "GET"
	case len(data) > 0 || len(forms) > 0 || p.has("--json"):
		r.method = "POST"
	case p.has("-T", "--upload-file"):
		r.method = "PUT"
	default:
		r.method = "GET"
	}
	return r
}

func parseWget(args []shell.Word) request {
	p := wgetSpec.parse(args)
	r := request{urls: p.pos, method: "GET", netrc: !p.has("--no-netrc")}
	for _, h := range p.all("--header") {
		r.headers = append(r.headers, h.Value)
	}
	for _, d := range p.all("--post-data", "--body-data") {
		r.fields = append(r.fields, strings.Split(d.Value, "&")...)
	}
	if p.has("--post-data", "--post-file") {
		r.method = "POST"
	}
	if m, ok := p.last("--method"); ok {
		r.method = strings.ToUpper(m.Value)
	}
	user, hasUser := p.last("--user", "--http-user")
	pass, hasPass := p.last("--password", "--http-password")
	if hasUser || hasPass {
		r.user = &credential{User: user.Value, Secret: pass.Value, Where: "--password"}
	}
	return r
}

// parseHTTPie reads "http [METHOD] URL [ITEM...]" where items are
// Header:value, field=value, field:=json, param==value and field@file.
func parseHTTPie(tool string, args []shell.Word) request {
	p := httpieSpec.parse(args)
	var r request
	pos := p.pos
	if len(pos) > 1 && isUpperWord(pos[0].Value) {
		r.method = pos[0].Value
		pos = pos[1:]
	}
	if len(pos) == 0 {
		return r
	}
	u := pos[0]
	if !strings.Contains(u.Value, "://") && !strings.HasPrefix(u.Value, "$") {
		scheme := "http://"
		if tool == "https" || tool == "xhs" {
			scheme = "https://"
		}
		u.Value = scheme + u.Value
	}
	r.urls = []shell.Word{u}
	hasData := false
	for _, it := range pos[1:] {
		v := it.Value
		i := strings.IndexAny(v, ":=@")
		if i <= 0 {
			continue
		}
		switch {
		case strings.HasPrefix(v[i:], "=="):
			sep := "?"
			if strings.Contains(r.urls[0].Value, "?") {
				sep = "&"
			}
			r.urls[0].Value += sep + v[:i] + "=" + v[i+2:]
		case strings.HasPrefix(v[i:], ":="), v[i] == '=', v[i] == '@':
			hasData = true
			if v[i] == '=' {
				r.fields = append(r.fields, v)
			}
		case v[i] == ':':
			r.headers = append(r.headers, v[:i]+": "+v[i+1:])
		}
	}
	if a, ok := p.last("-a", "--auth"); ok {
		user, pass, _ := strings.Cut(a.Value, ":")
		r.user = &credential{User: user, Secret: pass, Where: "--auth"}
	}
	if r.method == "" {
		r.method = "GET"
		if hasData || p.has("-f", "--form") {
			r.method = "POST"
		}
	}
	return r
}

var wgetSpec = optSpec{value: opts("OoaePUTtwYlADQIRXBi", "header", "method", "post-data", "post-file", "body-data",
	"body-file", "user", "password", "http-user", "http-password", "output-document", "output-file", "user-agent",
	"directory-prefix", "tries", "timeout", "wait", "referer", "load-cookies", "save-cookies", "ca-certificate",
	"certificate", "private-key", "input-file", "append-output", "base", "execute", "level", "accept", "reject",
	"domains", "exclude-domains", "include-directories", "exclude-directories", "cut-dirs", "limit-rate", "quota",
	"bind-address", "dns-timeout", "connect-timeout", "read-timeout", "waitretry", "proxy-user", "proxy-password",
	"default-page", "restrict-file-names"),
}

var httpieSpec = optSpec{value: opts("aAops", "auth", "auth-type", "output", "print", "style", "session",
	"session-read-only", "timeout", "verify", "cert", "cert-key", "proxy", "max-redirects", "pretty",
	"format-options", "boundary", "raw", "ssl", "ciphers", "default-scheme", "max-headers"),
}
