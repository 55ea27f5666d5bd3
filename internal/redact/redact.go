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

// String masks the secrets in s with Mask. It is the one redaction for
// text that reaches any output (the cli applies it to stdout, stderr and
// every file it writes).
func String(s string) string { return toOutput.apply(s) }

// File masks the secrets in a repository file's content so that the file
// keeps its syntax and meaning: a secret becomes Filler (a token keeps its
// prefix, a JWT stays JWT-shaped), never a bracketed word that YAML would
// read as a list. snapshot stores files masked so; String masks the
// fillers as it masks the secrets, so a scan of the snapshot prints what
// a scan of the repository prints.
func File(s string) string { return toFile.apply(s) }

// Filler replaces a secret in File's output.
const Filler = "tokenscope-masked"

// jwtFiller is a JWT-shaped filler: three base64url segments, the first a
// JSON header, long enough for maskJWTs.
const jwtFiller = "eyJ0b2tlbnNjb3BlIjoibWFza2VkIn0.bWFza2Vk.bWFza2Vk"

// masker says what a secret of each shape is replaced with.
type masker struct {
	token func(prefix string) string // a prefixed token (glpat-...)
	npm   string
	jwt   string
	value string // a password, header or parameter value
}

var (
	toOutput = masker{token: func(string) string { return Mask }, npm: Mask, jwt: Mask, value: Mask}
	toFile   = masker{token: func(p string) string { return p + Filler }, npm: npmFiller, jwt: jwtFiller, value: Filler}
)

func (m masker) apply(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, JobToken, m.value)
	s = m.maskPrefixed(s)
	s = m.maskJWTs(s)
	s = m.maskUserinfo(s)
	s = m.maskHeaders(s)
	s = m.maskParams(s)
	s = m.maskFlags(s)
	s = m.maskXML(s)
	s = m.maskNetrc(s)
	s = m.maskJSONKeys(s)
	return s
}

// masked reports whether v is already a mask or filler: masking is
// idempotent, and String masks File's fillers.
func (m masker) masked(v string) bool {
	if m.value == Filler {
		// A token File masked keeps its prefix (glptt-tokenscope-masked),
		// which says what kind of token it was: keep it whole.
		return strings.HasSuffix(v, Filler) || v == jwtFiller || v == npmFiller
	}
	return v == m.value
}

// npmFiller is File's npm token: npmToken's exact shape, so that String
// masks it as it masks a real one.
const npmFiller = "npm_TokenscopeMaskedTokenscopeMasked0000"

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// maskPrefixed masks "<prefix><at least 8 token chars>" at word starts.
func (m masker) maskPrefixed(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		// Every prefix starts with g, G or n.
		if c := s[i]; c != 'g' && c != 'G' && c != 'n' || i > 0 && isWordChar(s[i-1]) {
			continue
		}
		if j := npmToken(s, i); j > 0 && !m.masked(s[i:j]) {
			b.WriteString(s[last:i])
			b.WriteString(m.npm)
			last = j
			i = j - 1
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
			if j-i-len(p) >= 8 && !(m.value == Filler && s[i+len(p):j] == Filler) {
				b.WriteString(s[last:i])
				b.WriteString(m.token(p))
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

// npmToken returns the end of an npm access token at i ("npm_" and 36
// letters or digits, https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/),
// or 0. The exact length keeps npm_config_* variable names visible.
func npmToken(s string, i int) int {
	if !strings.HasPrefix(s[i:], "npm_") {
		return 0
	}
	j := i + 4
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j-i-4 != 36 || j < len(s) && isTokenChar(s[j]) {
		return 0
	}
	return j
}

// maskJWTs masks three base64url segments starting with "eyJ" (a JSON
// header), as JWT job tokens (19.0+) and OIDC tokens look.
func (m masker) maskJWTs(s string) string {
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
		if dots == 2 && j-i >= 30 && (i == 0 || !isWordChar(s[i-1])) && !m.masked(s[i:j]) && s[i:j] != m.jwt {
			s = s[:i] + m.jwt + s[j:]
			from = i + len(m.jwt)
		} else {
			from = i + 3
		}
	}
}

// maskUserinfo masks the password of scheme://user:password@host.
func (m masker) maskUserinfo(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			return s
		}
		start := from + i + 3
		end := start
		for end < len(s) && !strings.ContainsRune("/ \t\n'\"\\", rune(s[end])) {
			end++
		}
		auth := s[start:end]
		at := strings.LastIndexByte(auth, '@')
		colon := strings.IndexByte(auth, ':')
		if at > 0 && colon >= 0 && colon < at {
			pw := auth[colon+1 : at]
			if pw != "" && !m.masked(pw) && !isReference(pw) {
				s = s[:start+colon+1] + m.value + s[start+at:]
				end = start + colon + 1 + len(m.value) + (len(auth) - at)
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
func (m masker) maskHeaders(s string) string {
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
		for j < len(s) && !strings.ContainsRune(" \t\n'\"\\", rune(s[j])) {
			j++
		}
		v := s[valStart:j]
		if v == "" || m.masked(v) || isReference(v) {
			continue
		}
		out.WriteString(s[last:valStart])
		out.WriteString(m.value)
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

// paramNames are query or form parameters and configuration keys whose
// value is a credential.
var paramNames = []string{"private_token", "job_token", "access_token", "token", "_authtoken", "password", "_auth", "_password", "passwd"}

// spacedNames may also be written "name = value" (INI, .npmrc, HCL):
// there a bare value is masked only for the .npmrc keys, whose values are
// always literals, while "token = var.x" in HCL is a reference.
var spacedNames = map[string]bool{"_auth": true, "_password": true, "_authtoken": true}

// maskParams masks name=value credentials (query strings, forms, .npmrc,
// INI and HCL assignments), the value quoted or not.
func (m masker) maskParams(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	lower := asciiLower(s)
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '=' || i+1 < len(s) && s[i+1] == '=' || i > 0 && strings.ContainsRune("=!<>", rune(s[i-1])) {
			continue
		}
		k := i
		for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
			k--
		}
		spaced := k < i
		e := k
		for k > 0 && isWordChar(lower[k-1]) {
			k--
		}
		name := lower[k:e]
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
		if strings.HasSuffix(name, "_authtoken") {
			name = "_authtoken"
		}
		j := i + 1
		for spaced && j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		vs, ve := j, j
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			q := s[j]
			vs = j + 1
			ve = strings.IndexByte(s[vs:], q)
			if ve < 0 {
				continue
			}
			ve += vs
		} else {
			if spaced && !spacedNames[name] {
				continue
			}
			for ve < len(s) && !strings.ContainsRune(" \t\n&'\";\\", rune(s[ve])) {
				ve++
			}
		}
		v := s[vs:ve]
		if v == "" || m.masked(v) || isReference(v) || strings.Contains(v, "${") {
			continue
		}
		out.WriteString(s[last:vs])
		out.WriteString(m.value)
		last = ve
		i = ve - 1
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// isReference reports whether v is a variable reference rather than a
// literal value: $X, ${X}, $(...), %X%, a template placeholder, or an
// environment read in a script (job_token=os.environ["CI_JOB_TOKEN"],
// ENV['CI_JOB_TOKEN'], process.env.CI_JOB_TOKEN): the script scanner
// of package detect must find those in fetched files.
func isReference(v string) bool {
	v = strings.Trim(v, `"'`)
	return strings.HasPrefix(v, "$") || (strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") && len(v) > 2) ||
		v == "%s" || v == "%v" ||
		strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "#{") || isEnvRead(v)
}

// envReads are how Python, Ruby and JavaScript read an environment
// variable; a value starting so is code, not a credential.
var envReads = []string{"os.environ[", "os.environ.get(", "os.getenv(", "environ[", "getenv(", "ENV[", "ENV.fetch(", "process.env."}

func isEnvRead(v string) bool {
	for _, p := range envReads {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}
