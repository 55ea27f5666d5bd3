// Package redact masks secrets in text that tokenscope echoes: evidence
// copied from repositories, lines quoted from job logs, error messages.
// It masks GitLab token formats, credentials in URLs, token headers and
// token query parameters, and tokenscope's own job-token marker. Variable
// references ($X, ${X}, %X%) are not secrets and stay visible, so a
// reviewer still sees which variable carried the token.
//
// The scanners are hand-written rather than regular expressions: evidence
// is redacted on the scan's hot path, and Go's regexp engine made that the
// most expensive step of a 10,000-project scan.
package redact

import "strings"

// Mask replaces every secret.
const Mask = "[MASKED]"

// JobToken is the marker tokenscope puts in place of the job token while
// it analyses jobs (inventory gives it to CI_JOB_TOKEN and its aliases).
// It is never a real token, but text holding it is text that carries the
// job token, so String masks it. It is made of characters that survive
// URL parsing (it sits in userinfo) and never occurs in real text.
const JobToken = "__CI_JOB_TOKEN__"

// tokenPrefixes are GitLab's token prefixes (docs: security/tokens, "Token
// prefixes"; glcbt- is the legacy job token) and other forges' tokens.
var tokenPrefixes = []string{
	"glpat-", "glptt-", "glcbt-", "gldt-", "glrt-", "gloas-", "glsoat-", "glft-", "glimt-", "glagent-", "glwt-",
	"ghp_", "gho_", "ghs_", "github_pat_", "GR1348941",
}

// String masks the secrets in s.
func String(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, JobToken, Mask)
	s = maskPrefixed(s)
	s = maskJWTs(s)
	s = maskUserinfo(s)
	s = maskHeaders(s)
	s = maskParams(s)
	return s
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// maskPrefixed masks "<prefix><at least 8 token chars>" at word starts.
func maskPrefixed(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		// Every prefix starts with g or G.
		if c := s[i]; c != 'g' && c != 'G' || i > 0 && isWordChar(s[i-1]) {
			continue
		}
		for _, p := range tokenPrefixes {
			if !strings.HasPrefix(s[i:], p) {
				continue
			}
			j := i + len(p)
			for j < len(s) && isTokenChar(s[j]) {
				j++
			}
			if j-i-len(p) >= 8 {
				b.WriteString(s[last:i])
				b.WriteString(Mask)
				last = j
				i = j - 1
			}
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskJWTs masks three base64url segments starting with "eyJ" (a JSON
// header), as JWT job tokens (19.0+) and OIDC tokens look.
func maskJWTs(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "eyJ")
		if i < 0 {
			return s
		}
		i += from
		j, dots := i, 0
		for j < len(s) && (isTokenChar(s[j]) && s[j] != '.' || s[j] == '.' && dots < 2) {
			if s[j] == '.' {
				dots++
			}
			j++
		}
		if dots == 2 && j-i >= 30 && (i == 0 || !isWordChar(s[i-1])) {
			s = s[:i] + Mask + s[j:]
			from = i + len(Mask)
		} else {
			from = i + 3
		}
	}
}

// maskUserinfo masks the password of scheme://user:password@host.
func maskUserinfo(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			return s
		}
		start := from + i + 3
		end := start
		for end < len(s) && !strings.ContainsRune("/ \t\n'\"", rune(s[end])) {
			end++
		}
		auth := s[start:end]
		at := strings.LastIndexByte(auth, '@')
		colon := strings.IndexByte(auth, ':')
		if at > 0 && colon >= 0 && colon < at {
			pw := auth[colon+1 : at]
			if pw != "" && pw != Mask && !isReference(pw) {
				s = s[:start+colon+1] + Mask + s[start+at:]
				end = start + colon + 1 + len(Mask) + (len(auth) - at)
			}
		}
		from = end
	}
}

// asciiLower lowers ASCII letters only, so byte offsets stay aligned with s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// maskHeaders masks the values of PRIVATE-TOKEN / JOB-TOKEN / DEPLOY-TOKEN
// headers and Authorization: Bearer|Basic|token credentials.
func maskHeaders(s string) string {
	lower := asciiLower(s)
	if !strings.Contains(lower, "token") && !strings.Contains(lower, "authorization") {
		return s
	}
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		valStart := headerValueStart(lower, i)
		if valStart < 0 {
			continue
		}
		j := valStart
		for j < len(s) && !strings.ContainsRune(" \t\n'\"", rune(s[j])) {
			j++
		}
		v := s[valStart:j]
		if v == "" || v == Mask || isReference(v) {
			continue
		}
		out.WriteString(s[last:valStart])
		out.WriteString(Mask)
		last = j
		i = j - 1
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// headerValueStart returns where a token header's value starts when a
// header name begins at i in lower, or -1.
func headerValueStart(lower string, i int) int {
	if i > 0 && isWordChar(lower[i-1]) {
		return -1
	}
	rest := lower[i:]
	skipColon := func(n int) int {
		for n < len(rest) && (rest[n] == ' ' || rest[n] == '\t') {
			n++
		}
		if n >= len(rest) || rest[n] != ':' {
			return -1
		}
		n++
		for n < len(rest) && (rest[n] == ' ' || rest[n] == '\t') {
			n++
		}
		return n
	}
	for _, name := range []string{"private-token", "private_token", "job-token", "job_token", "deploy-token", "deploy_token"} {
		if strings.HasPrefix(rest, name) {
			if n := skipColon(len(name)); n >= 0 {
				return i + n
			}
			return -1
		}
	}
	if strings.HasPrefix(rest, "authorization") {
		n := skipColon(len("authorization"))
		if n < 0 {
			return -1
		}
		for _, scheme := range []string{"bearer ", "basic ", "token "} {
			if strings.HasPrefix(rest[n:], scheme) {
				n += len(scheme)
				for n < len(rest) && rest[n] == ' ' {
					n++
				}
				return i + n
			}
		}
	}
	return -1
}

// paramNames are query or form parameters whose value is a credential.
var paramNames = []string{"private_token", "job_token", "access_token", "token", "_authtoken", "password"}

// maskParams masks name=value credentials (query strings, forms, .npmrc).
func maskParams(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	lower := asciiLower(s)
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		k := i
		for k > 0 && isWordChar(lower[k-1]) {
			k--
		}
		name := lower[k:i]
		found := false
		for _, n := range paramNames {
			if name == n || n == "_authtoken" && strings.HasSuffix(name, n) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		j := i + 1
		for j < len(s) && !strings.ContainsRune(" \t\n&'\";", rune(s[j])) {
			j++
		}
		v := s[i+1 : j]
		if v == "" || v == Mask || isReference(v) {
			continue
		}
		out.WriteString(s[last : i+1])
		out.WriteString(Mask)
		last = j
		i = j - 1
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// isReference reports whether v is a variable reference rather than a
// literal value: $X, ${X}, $(...), %X%, or a template placeholder.
func isReference(v string) bool {
	v = strings.Trim(v, `"'`)
	return strings.HasPrefix(v, "$") || (strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") && len(v) > 2) ||
		strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "#{")
}
