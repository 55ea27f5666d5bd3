package detect

// Gradle (P22), part of the Maven family: repositories of build.gradle(.kts)
// and settings.gradle(.kts) with job-token credentials.

import (
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Gradle (P22) is part of the Maven family: a job that runs gradle or
// ./gradlew reads build.gradle(.kts) and settings.gradle(.kts); a
// maven { url …; credentials(HttpHeaderCredentials) { name = "Job-Token";
// value = System.getenv("CI_JOB_TOKEN") } } block pulls (packages-read),
// the same block under publishing { repositories { … } } publishes
// (packages-write) when the job runs a publish task.

// gradleRepo is one maven { } block.
type gradleRepo struct {
	url     string
	urlLine int
	headers []gradleHeader // every name/value pair (fallback chains have several)
	publish bool
	file    string
}

type gradleHeader struct{ name, value string }

var (
	gradleMavenRE  = regexp.MustCompile(`\bmaven\s*(\(([^\n{]*)\))?\s*\{`)
	gradleURLRE    = regexp.MustCompile(`(?m)\b(?:url\s*=?|setUrl\s*\()\s*([^\n;]+)`)
	gradleNameRE   = regexp.MustCompile(`\bname\s*=?\s*("[^"\n]*"|'[^'\n]*')`)
	gradleValueRE  = regexp.MustCompile(`\bvalue\s*=?\s*([^\n;]+)`)
	gradleGetenvRE = regexp.MustCompile(`System\.getenv\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)`)
	gradlePropRE   = regexp.MustCompile(`(?:findProperty|property)\(\s*["']([A-Za-z_][A-Za-z0-9_.]*)["']\s*\)|properties\[\s*["']([A-Za-z_][A-Za-z0-9_.]*)["']\s*\]`)
	gradleBlockRE  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:\([^(){}]*\))?\s*\{$`)
)

// parseGradle finds maven { } blocks and whether each sits under publishing.
func parseGradle(file, text string) []gradleRepo {
	var out []gradleRepo
	for _, m := range gradleMavenRE.FindAllStringSubmatchIndex(text, -1) {
		open := m[1] - 1
		end := matchBrace(text, open)
		if end < 0 {
			continue
		}
		body := text[open+1 : end]
		r := gradleRepo{file: file, publish: underBlock(text, m[0], "publishing")}
		if m[4] >= 0 && strings.TrimSpace(text[m[4]:m[5]]) != "" {
			r.url, r.urlLine = gradleURLExpr(text[m[4]:m[5]]), lineAt(text, m[4])
		} else if u := gradleURLRE.FindStringSubmatchIndex(body); u != nil {
			r.url, r.urlLine = gradleURLExpr(body[u[2]:u[3]]), lineAt(text, open+1+u[2])
		}
		names := gradleNameRE.FindAllStringSubmatchIndex(body, -1)
		for i, n := range names {
			seg := body[n[1]:]
			if i+1 < len(names) {
				seg = body[n[1]:names[i+1][0]]
			}
			h := gradleHeader{name: gradleUnquote(body[n[2]:n[3]])}
			if v := gradleValueRE.FindStringSubmatch(seg); v != nil {
				h.value = strings.TrimSpace(v[1])
			}
			r.headers = append(r.headers, h)
		}
		out = append(out, r)
	}
	return out
}

// underBlock reports whether position pos is inside a block named name.
func underBlock(s string, pos int, name string) bool {
	var stack []string
	for i := 0; i < pos && i < len(s); i++ {
		switch s[i] {
		case '{':
			label := ""
			if m := gradleBlockRE.FindStringSubmatch(s[max(0, i-80) : i+1]); m != nil {
				label = m[1]
			}
			stack = append(stack, label)
		case '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	for _, l := range stack {
		if l == name {
			return true
		}
	}
	return false
}

func gradleUnquote(s string) string { return strings.Trim(s, `"'`) }

// gradleURLExpr strips the call syntax around a URL expression:
// url = uri("…"), setUrl("…"), maven(url = "…"), java.net.URI("…").
func gradleURLExpr(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "url")
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "="))
	for _, p := range []string{"java.net.URI(", "URI(", "uri(", "new URI("} {
		if strings.HasPrefix(s, p) {
			s = strings.TrimSuffix(strings.TrimPrefix(s, p), ")")
		}
	}
	return strings.TrimSpace(strings.TrimSuffix(s, ")"))
}

// gradleEval evaluates a Groovy/Kotlin value expression as far as
// tokenscope can: System.getenv("X") from the environment, project
// properties from -P flags and ORG_GRADLE_PROJECT_X, "${…}" string
// templates around them.
func gradleEval(expr string, env shell.Env, props map[string]string) string {
	expr = gradleEnvIdioms(expr) // gradle_idioms.go
	// Unknown names are kept as \x01NAME\x02 while template syntax is
	// stripped, then shown as ${NAME}.
	expr = gradleGetenvRE.ReplaceAllStringFunc(expr, func(m string) string {
		name := gradleGetenvRE.FindStringSubmatch(m)[1]
		if v, ok := env.Get(name); ok {
			return v
		}
		return "\x01" + name + "\x02"
	})
	expr = gradlePropRE.ReplaceAllStringFunc(expr, func(m string) string {
		sm := gradlePropRE.FindStringSubmatch(m)
		name := sm[1] + sm[2]
		if v, ok := props[name]; ok {
			return v
		}
		if v, ok := env.Get("ORG_GRADLE_PROJECT_" + name); ok {
			return v
		}
		return "\x01" + name + "\x02"
	})
	expr = strings.NewReplacer("${", "", "}", "", `"`, "", "'", "", " + ", "", "+", "").Replace(expr)
	expr = strings.NewReplacer("\x01", "${", "\x02", "}").Replace(expr)
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(expr), ")"))
}

var gradleSpec = optSpec{value: opts("pbPDx", "project-dir", "build-file", "project-prop", "system-prop",
	"exclude-task", "init-script", "settings-file", "console", "warning-mode", "max-workers")}

// gradle handles the Gradle invocations of a job.
func (in *Input) gradle(out *Output) {
	seen := map[string]bool{}
	for _, c := range in.Commands {
		ws := argv(c)
		switch nameOf(c, ws) {
		case "gradle", "gradlew":
		default:
			continue
		}
		dir, props, publish := ".", map[string]string{}, false
		p := gradleSpec.parse(ws[1:])
		if d, ok := p.last("-p", "--project-dir"); ok {
			dir = d.Value
		}
		for _, w := range p.all("-P", "--project-prop") {
			k, val, _ := strings.Cut(w.Value, "=")
			props[k] = val
		}
		for _, w := range p.pos {
			if strings.HasPrefix(w.Value, "publish") || strings.Contains(w.Value, ":publish") {
				publish = true
			}
		}
		rel, ok := in.repoPath(dir)
		if !ok {
			rel = "."
		}
		for _, f := range []string{"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"} {
			name := path.Join(rel, f)
			text, ok := in.readRepo(name)
			if !ok {
				continue
			}
			for _, r := range parseGradle(name, text) {
				if r.publish && !publish {
					continue
				}
				in.gradleRepo(c, r, props, seen, out)
			}
		}
	}
}

func (in *Input) gradleRepo(c *shell.Command, r gradleRepo, props map[string]string, seen map[string]bool, out *Output) {
	env := in.envOf(c)
	url := gradleEval(r.url, env, props)
	k := access.PackagesRead
	if r.publish {
		k = access.PackagesWrite
	}
	u, ok := ParseURL(url)
	if !ok || !OnServer(in.Server, u.Host) {
		return
	}
	ep, ok := ClassifyAPI(in.Server, u, map[bool]string{true: "PUT", false: "GET"}[r.publish])
	if !ok || ep.Access == "" {
		return
	}
	at := fileSite(r.file, r.urlLine)
	note := func(nk use.NoteKind, d string) { out.Notes = append(out.Notes, in.noteAtSite(at, nk, d)) }
	key := r.file + ":" + url + ":" + string(k)
	if seen[key] {
		return
	}
	var other string
	for _, h := range r.headers {
		val := gradleEval(h.value, env, props)
		switch strings.ToLower(h.name) {
		case "job-token":
			if HasJobToken(val) {
				seen[key] = true
				t := ep.Target
				if t.Reason != "" {
					t.Reference = r.url
				}
				in.groupPackages(&t, "gradle", path.Dir(r.file)) // publishers.go
				out.Uses = append(out.Uses, in.useAtSite(at, k, t,
					"maven "+r.url+" with a Job-Token header ("+h.value+") via "+CommandText(c)))
				return
			}
		case "private-token", "deploy-token":
			if HasJobToken(val) {
				seen[key] = true
				note(use.WontWork, "the job token is sent in a "+h.name+" header; GitLab reads a job token only from Job-Token: maven "+r.url)
				return
			}
			other = h.name
		}
	}
	if other != "" {
		seen[key] = true
		note(use.NotJobToken, "maven "+r.url+" authenticates with a "+other+" header, not the job token")
	}
}
