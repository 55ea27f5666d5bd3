package redact

import "strings"

// The maskers of this file find secrets by the syntax that holds them on
// command lines and in configuration files: login flags, XML elements,
// .netrc lines and JSON keys. Each masks the value only, so that the
// surrounding syntax (and, for File, the meaning) stays.

// valueFlags take a credential as their value: --password X (docker,
// podman, helm, skopeo, glab, mysql...), and the user:password pairs of
// curl's -u/--user and skopeo's --creds family, whose user part stays.
var valueFlags = []struct {
	flag     string
	pair     bool // the value is user:password; only the password is masked
	needLine string
}{
	{flag: "--password"},
	{flag: "--passwd"},
	{flag: "--registry-password"},
	{flag: "-p", needLine: "login"}, // docker/podman/buildah/helm registry login -p PW
	{flag: "--user", pair: true},
	{flag: "-u", pair: true},
	{flag: "--creds", pair: true},
	{flag: "--src-creds", pair: true},
	{flag: "--dest-creds", pair: true},
	{flag: "--registry-creds", pair: true},
}

// maskFlags masks the values of credential flags.
func (m masker) maskFlags(s string) string {
	if !strings.Contains(s, "-") {
		return s
	}
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '-' || i > 0 && !strings.ContainsRune(" \t\"'(", rune(s[i-1])) {
			continue
		}
		for _, f := range valueFlags {
			if !strings.HasPrefix(s[i:], f.flag) {
				continue
			}
			j := i + len(f.flag)
			switch {
			case j < len(s) && s[j] == '=':
				j++
			case j < len(s) && (s[j] == ' ' || s[j] == '\t'):
				for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
					j++
				}
			default:
				continue // --password-stdin, -pX is not handled: ambiguous
			}
			if f.needLine != "" && !strings.Contains(lineAt(s, i), f.needLine) {
				continue
			}
			vs, ve, ok := word(s, j)
			if !ok {
				continue
			}
			if f.pair {
				c := strings.IndexByte(s[vs:ve], ':')
				if c < 0 {
					continue
				}
				vs += c + 1
				if allDigits(s[vs:ve]) { // docker run -u 1000:1000
					continue
				}
			}
			v := s[vs:ve]
			if v == "" || m.masked(v) || isReference(v) || strings.HasPrefix(v, "-") {
				continue
			}
			out.WriteString(s[last:vs])
			out.WriteString(m.value)
			last = ve
			i = ve - 1
			break
		}
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// word returns the span of the shell word at j: inside its quotes when
// quoted, else up to a blank or quote.
func word(s string, j int) (int, int, bool) {
	if j >= len(s) {
		return 0, 0, false
	}
	if q := s[j]; q == '"' || q == '\'' {
		e := strings.IndexByte(s[j+1:], q)
		if e < 0 {
			return 0, 0, false
		}
		return j + 1, j + 1 + e, true
	}
	e := j
	for e < len(s) && !strings.ContainsRune(" \t\n'\";\\", rune(s[e])) {
		e++
	}
	return j, e, e > j
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lineAt returns the line of s that holds byte i.
func lineAt(s string, i int) string {
	a := strings.LastIndexByte(s[:i], '\n') + 1
	b := strings.IndexByte(s[i:], '\n')
	if b < 0 {
		return s[a:]
	}
	return s[a : i+b]
}

// xmlSecrets are elements whose text is a credential: Maven's
// settings.xml <password> and <passphrase>
// (https://maven.apache.org/settings.html#servers).
var xmlSecrets = []string{"password", "passphrase"}

// maskXML masks <password>X</password> and NuGet's
// <add key="ClearTextPassword" value="X" /> (https://learn.microsoft.com/nuget/reference/nuget-config-file#packagesourcecredentials).
func (m masker) maskXML(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	lower := asciiLower(s)
	var out strings.Builder
	last := 0
	emit := func(vs, ve int) {
		v := s[vs:ve]
		if v == "" || m.masked(v) || isReference(v) {
			return
		}
		out.WriteString(s[last:vs])
		out.WriteString(m.value)
		last = ve
	}
	for i := strings.IndexByte(lower, '<'); i >= 0 && i < len(s); {
		for _, el := range xmlSecrets {
			open := "<" + el + ">"
			if strings.HasPrefix(lower[i:], open) {
				vs := i + len(open)
				if ve := strings.IndexByte(s[vs:], '<'); ve >= 0 {
					emit(vs, vs+ve)
				}
			}
		}
		if strings.HasPrefix(lower[i:], "<add ") {
			end := strings.IndexByte(lower[i:], '>')
			if end < 0 {
				end = len(lower) - i
			}
			tag := lower[i : i+end]
			if strings.Contains(tag, `key="cleartextpassword"`) || strings.Contains(tag, `key="password"`) {
				if v := strings.Index(tag, `value="`); v >= 0 {
					vs := i + v + len(`value="`)
					if ve := strings.IndexByte(s[vs:], '"'); ve >= 0 {
						emit(vs, vs+ve)
					}
				}
			}
		}
		n := strings.IndexByte(lower[i+1:], '<')
		if n < 0 {
			break
		}
		i += 1 + n
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// maskNetrc masks the password of a .netrc line ("machine H login U
// password P", https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html),
// also when a script writes one with echo or printf. Only lines that look
// like .netrc (machine or login in them, or password first) are touched,
// so prose such as "password is required" stays.
func (m masker) maskNetrc(s string) string {
	if !strings.Contains(s, "password") {
		return s
	}
	var out strings.Builder
	last := 0
	for from := 0; ; {
		k := strings.Index(s[from:], "password")
		if k < 0 {
			break
		}
		i := from + k
		from = i + len("password")
		if i > 0 && !strings.ContainsRune(" \t\n\"'", rune(s[i-1])) {
			continue
		}
		j := from
		if j >= len(s) || s[j] != ' ' && s[j] != '\t' {
			continue
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		line := lineAt(s, i)
		first := strings.TrimLeft(line, " \t\"'")
		if !strings.Contains(line, "machine ") && !strings.Contains(line, "login ") && !strings.HasPrefix(first, "password") {
			continue
		}
		vs, ve, ok := word(s, j)
		if !ok {
			continue
		}
		v := s[vs:ve]
		if m.masked(v) || isReference(v) || strings.HasPrefix(v, "%") || strings.HasPrefix(v, "=") {
			continue
		}
		out.WriteString(s[last:vs])
		out.WriteString(m.value)
		last = ve
		from = ve
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// jsonSecretKeys are JSON keys whose string value is a credential: the
// Docker config's "auth" (base64 user:password) and "identitytoken"
// (https://docs.docker.com/reference/cli/docker/login/#credential-stores),
// and "password"/"token" in general.
var jsonSecretKeys = []string{"auth", "identitytoken", "password", "token", "access_token", "private_token"}

// maskJSONKeys masks "key": "value" for those keys, also inside an escaped
// JSON string (\"auth\": \"...\"), as DOCKER_AUTH_CONFIG values are
// written in YAML.
func (m masker) maskJSONKeys(s string) string {
	if !strings.Contains(s, `":`) && !strings.Contains(s, `" :`) && !strings.Contains(s, `\":`) {
		return s
	}
	lower := asciiLower(s)
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		q := `"`
		if i > 0 && s[i-1] == '\\' {
			q = `\"`
		}
		for _, key := range jsonSecretKeys {
			if !strings.HasPrefix(lower[i+1:], key+q) {
				continue
			}
			j := i + 1 + len(key) + len(q)
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j >= len(s) || s[j] != ':' {
				break
			}
			j++
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if !strings.HasPrefix(s[j:], q) {
				break
			}
			vs := j + len(q)
			e := strings.Index(s[vs:], q)
			if e < 0 {
				break
			}
			ve := vs + e
			v := s[vs:ve]
			if v != "" && !m.masked(v) && !isReference(v) {
				out.WriteString(s[last:vs])
				out.WriteString(m.value)
				last = ve
				i = ve
			}
			break
		}
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}
