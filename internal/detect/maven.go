package detect

import (
	"encoding/xml"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// mavenDetector finds Maven repository access with the job token (P21).
// The credential and the target sit in different files, joined by <id>:
// settings.xml has <server><id>X</id> with a Job-Token header (or user
// gitlab-ci-token and the job token as password), pom.xml has the
// <repository><id>X</id><url>…/projects/<id>/packages/maven</url>. Pulls
// come from <repositories>, <pluginRepositories> and settings <mirrors>;
// publishing from <distributionManagement> when the job runs deploy.
type mavenDetector struct{}

func (mavenDetector) Name() string { return "maven" }

// mvnServer is a settings.xml <server>.
type mvnServer struct {
	id                  string
	header, headerValue string
	user, pass          string
	line                int
}

// mvnRepo is a repository-like element: repository, pluginRepository,
// snapshotRepository (write when under distributionManagement), mirror.
type mvnRepo struct {
	id, url string
	write   bool
	line    int
	file    string
}

// mvnFile is what tokenscope reads from a settings.xml or pom.xml.
type mvnFile struct {
	servers []mvnServer
	repos   []mvnRepo
	props   map[string]string
}

// parseMaven reads the parts of a Maven XML file that matter. Broken XML
// yields what was read before the error.
func parseMaven(name, text string) mvnFile {
	f := mvnFile{props: map[string]string{}}
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false
	var stack []string
	var cur map[string]string
	var curLine int
	var curKind string
	var headerName string
	var text0 strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := t.Name.Local
			line, _ := d.InputPos()
			switch n {
			case "server", "repository", "pluginRepository", "snapshotRepository", "mirror":
				cur, curLine, curKind = map[string]string{}, line, n
				if n == "repository" || n == "snapshotRepository" {
					if len(stack) > 0 && stack[len(stack)-1] == "distributionManagement" {
						curKind = "deploy"
					}
				}
			}
			if cur != nil && (n == "url" || n == "id") {
				cur[n+"Line"] = strconv.Itoa(line)
			}
			stack = append(stack, n)
			text0.Reset()
		case xml.CharData:
			text0.Write(t)
		case xml.EndElement:
			n := t.Name.Local
			val := strings.TrimSpace(text0.String())
			text0.Reset()
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			if parent == "properties" && val != "" {
				f.props[n] = val
			}
			if cur == nil {
				continue
			}
			switch n {
			case "id", "url", "username", "password":
				if parent == "server" || parent == "repository" || parent == "snapshotRepository" || parent == "pluginRepository" || parent == "mirror" {
					cur[n] = val
				}
			case "name":
				if parent == "property" {
					headerName = val
				}
			case "value":
				if parent == "property" && headerName != "" {
					cur["header:"+strings.ToLower(headerName)] = val
					headerName = ""
				}
			case "server":
				s := mvnServer{id: cur["id"], user: cur["username"], pass: cur["password"], line: curLine}
				for k, v := range cur {
					if h, ok := strings.CutPrefix(k, "header:"); ok {
						s.header, s.headerValue = h, v
					}
				}
				f.servers = append(f.servers, s)
				cur = nil
			case "repository", "pluginRepository", "snapshotRepository", "mirror":
				line := curLine
				if l, _ := strconv.Atoi(cur["urlLine"]); l > 0 {
					line = l
				}
				f.repos = append(f.repos, mvnRepo{id: cur["id"], url: cur["url"], write: curKind == "deploy", line: line, file: name})
				cur = nil
			}
		}
	}
	return f
}

// mvnRun is one Maven invocation.
type mvnRun struct {
	c        *shell.Command
	settings string // -s value ("" for the default)
	pom      string // -f value ("" for pom.xml)
	goals    []string
	props    map[string]string // -D
}

var mvnArgOpts = setOf("-s", "--settings", "-gs", "--global-settings", "-f", "--file", "-P", "--activate-profiles",
	"-pl", "--projects", "-rf", "--resume-from", "-T", "--threads", "-l", "--log-file", "-b", "--builder", "-t",
	"--toolchains", "-gt", "--global-toolchains", "-emp", "--encrypt-master-password", "-ep", "--encrypt-password", "--define")

func parseMvn(c *shell.Command, extra string) mvnRun {
	r := mvnRun{c: c, props: map[string]string{}}
	ws := argv(c)
	var args []string
	for _, w := range ws[1:] {
		// An unquoted $MAVEN_CLI_OPTS splits into words.
		if !strings.HasPrefix(w.Raw, `"`) && !strings.HasPrefix(w.Raw, "'") && strings.ContainsAny(w.Value, " \t") {
			args = append(args, strings.Fields(w.Value)...)
			continue
		}
		args = append(args, w.Value)
	}
	args = append(args, strings.Fields(extra)...)
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "-s" || a == "--settings":
			r.settings = next()
		case a == "-f" || a == "--file":
			r.pom = next()
		case a == "-D" || a == "--define":
			k, v, _ := strings.Cut(next(), "=")
			r.props[k] = v
		case strings.HasPrefix(a, "-D"):
			k, v, _ := strings.Cut(a[2:], "=")
			r.props[k] = v
		case mvnArgOpts[a]:
			next()
		case strings.HasPrefix(a, "--settings="):
			r.settings = strings.TrimPrefix(a, "--settings=")
		case strings.HasPrefix(a, "--file="):
			r.pom = strings.TrimPrefix(a, "--file=")
		case strings.HasPrefix(a, "-"):
		default:
			r.goals = append(r.goals, a)
		}
	}
	return r
}

func (r mvnRun) deploys() bool {
	for _, g := range r.goals {
		if g == "deploy" || strings.HasPrefix(g, "deploy:") || strings.HasSuffix(g, ":deploy") || strings.HasSuffix(g, ":deploy-file") {
			return true
		}
	}
	return false
}

func (mavenDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	in.gradle(out)
	var xmlWrites []fileWrite
	seen := map[string]bool{}
	for _, c := range in.Commands {
		ws := argv(c)
		switch nameOf(c, ws) {
		case "mvn", "mvnw", "mvnd", "mvndebug": // cmdBase lowers case and drops .cmd
		default:
			continue
		}
		if xmlWrites == nil {
			xmlWrites = in.writes(func(d string) bool { return strings.HasSuffix(d, ".xml") })
		}
		extra, _ := in.getenv(c, "MAVEN_ARGS")
		r := parseMvn(c, extra)
		in.mavenRun(r, xmlWrites, seen, out)
	}
}

// mavenRun joins one invocation's settings and pom.
func (in *Input) mavenRun(r mvnRun, xmlWrites []fileWrite, seen map[string]bool, out *Output) {
	settingsName := r.settings
	var settingsText, settingsFile string
	if settingsName != "" {
		settingsText, settingsFile, _ = in.readSource(xmlWrites, settingsName)
	} else {
		for i := len(xmlWrites) - 1; i >= 0; i-- {
			if strings.HasSuffix(xmlWrites[i].path, ".m2/settings.xml") {
				settingsText, settingsFile, settingsName = xmlWrites[i].out.value, xmlWrites[i].out.from, xmlWrites[i].path
				break
			}
		}
		if settingsText == "" {
			if s, ok := in.readRepo(".m2/settings.xml"); ok {
				settingsText, settingsFile, settingsName = s, ".m2/settings.xml", ".m2/settings.xml"
			}
		}
	}
	if settingsText == "" {
		return
	}
	settings := parseMaven(settingsFile, settingsText)
	pomName := "pom.xml"
	if r.pom != "" {
		pomName = r.pom
		if !strings.HasSuffix(pomName, ".xml") {
			pomName = path.Join(pomName, "pom.xml")
		}
	}
	pomRel, _ := in.repoPath(pomName)
	var pom mvnFile
	if text, ok := in.readRepo(pomRel); ok {
		pom = parseMaven(pomRel, text)
	}
	env := in.envOf(r.c)
	expand := func(s string, props map[string]string) string { return mavenExpand(s, props, r.props, env) }
	servers := map[string]mvnServer{}
	for _, s := range settings.servers {
		servers[s.id] = s
	}
	repos := append(append([]mvnRepo(nil), pom.repos...), settings.repos...)
	if alt := r.props["altDeploymentRepository"]; alt != "" && r.deploys() {
		parts := strings.Split(alt, "::")
		if len(parts) >= 2 {
			repos = append(repos, mvnRepo{id: parts[0], url: parts[len(parts)-1], write: true})
		}
	}
	if u := r.props["url"]; u != "" && r.deploys() && r.props["repositoryId"] != "" {
		repos = append(repos, mvnRepo{id: r.props["repositoryId"], url: u, write: true})
	}
	for _, repo := range repos {
		if repo.write && !r.deploys() {
			continue
		}
		srv, ok := servers[repo.id]
		if !ok {
			continue
		}
		props := pom.props
		if repo.file == settingsFile && settingsFile != "" && repo.file != pomRel {
			props = settings.props
		}
		url := expand(repo.url, props)
		u, ok := ParseURL(url)
		if !ok {
			continue
		}
		k := access.PackagesRead
		if repo.write {
			k = access.PackagesWrite
		}
		where := "settings " + settingsName + " server " + srv.id
		hdr := expand(srv.headerValue, settings.props)
		pass := expand(srv.pass, settings.props)
		detail := repo.id + " → " + repo.url + " (" + where
		// The evidence is the repository's line, or the command for one
		// given on the command line (-DaltDeploymentRepository).
		at := fileSite(repo.file, repo.line)
		if repo.file == "" {
			at = cmdSite(r.c)
		}
		note := func(nk use.NoteKind, d string) { out.Notes = append(out.Notes, in.noteAtSite(at, nk, d)) }
		var isUse bool
		switch {
		case srv.header == "job-token" && HasJobToken(hdr):
			isUse, detail = true, detail+", Job-Token header)"
		case (srv.header == "private-token" || srv.header == "deploy-token") && HasJobToken(hdr):
			if OnServer(in.Server, u.Host) {
				note(use.WontWork, "the job token is sent in a "+srv.header+" header; GitLab reads a job token only from Job-Token: "+detail+")")
			}
			continue
		case HasJobToken(pass):
			ok, why := basicAuthVerdict(credential{User: expand(srv.user, settings.props), Secret: pass})
			if why != "" {
				if OnServer(in.Server, u.Host) {
					note(use.WontWork, why+": "+detail+")")
				}
				continue
			}
			isUse, detail = ok, detail+", user gitlab-ci-token)"
		case srv.header == "job-token" && srv.headerValue != "" && !HasJobToken(hdr) && isJobTokenRef(srv.headerValue):
			continue
		default:
			if (srv.header == "private-token" || srv.header == "deploy-token" || pass != "") && OnServer(in.Server, u.Host) {
				if key := "n" + repo.file + strconv.Itoa(repo.line) + repo.id; !seen[key] {
					seen[key] = true
					note(use.NotJobToken, "Maven server "+srv.id+" authenticates with a "+mvnCredKind(srv)+", not the job token: "+detail+")")
				}
			}
			continue
		}
		if !isUse {
			continue
		}
		if !OnServer(in.Server, u.Host) {
			if UnknownReason(u.Host) == "" {
				note(use.OtherHost, "the job token is sent to Maven repository host "+u.Host+", which is not this GitLab server: "+detail)
			}
			continue
		}
		method := "GET"
		if repo.write {
			method = "PUT"
		}
		ep, ok := ClassifyAPI(in.Server, u, method)
		if !ok || ep.Access == "" {
			continue
		}
		key := repo.file + ":" + strconv.Itoa(repo.line) + ":" + string(k) + ":" + url + ":" + r.c.Pos.File
		if repo.file == "" {
			key += strconv.Itoa(r.c.Pos.Line)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		t := ep.Target
		if t.Reason != "" {
			t.Reference = repo.url
		}
		in.groupPackages(&t, "pom", pomRel) // publishers.go
		out.Uses = append(out.Uses, in.useAtSite(at, k, t, detail+" via "+CommandText(r.c)))
	}
}

func mvnCredKind(s mvnServer) string {
	switch s.header {
	case "private-token":
		return "Private-Token header"
	case "deploy-token":
		return "Deploy-Token header"
	}
	return "user name and password (" + s.user + ")"
}

var mavenPropRE = regexp.MustCompile(`\$\{([A-Za-z0-9_.\-]+)\}`)

// mavenExpand resolves ${env.X}, ${X} (pom/settings properties, -D
// properties, then the environment, as GitLab's examples rely on) in a
// Maven value. Unknown references stay as written.
func mavenExpand(s string, props, cli map[string]string, env shell.Env) string {
	for range 4 {
		if !strings.Contains(s, "${") {
			return s
		}
		s = mavenPropRE.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if e, ok := strings.CutPrefix(name, "env."); ok {
				if v, ok := env.Get(e); ok {
					return v
				}
				return "${" + e + "}"
			}
			if v, ok := cli[name]; ok {
				return v
			}
			if v, ok := props[name]; ok {
				return v
			}
			if v, ok := env.Get(name); ok {
				return v
			}
			return m
		})
	}
	return s
}
