package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/redact"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// apiDetector finds REST calls that carry the job token: curl, wget and
// httpie (patterns P27, P30, P32, P36–P38 of docs/patterns.md), glab
// with a job-token login (P34), release-cli and download-secure-files
// (P35). Endpoints are classified by ClassifyAPI; the ones a job token
// cannot use, and wrong ways of sending it, become will-not-work notes.
type apiDetector struct{}

func (apiDetector) Name() string { return "api" }

func (apiDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	glabJobToken := false
	for _, c := range in.Commands {
		ws := argv(c)
		switch nameOf(c, ws) {
		case "curl":
			in.request(c, parseCurl(ws[1:]), out)
		case "wget":
			in.request(c, parseWget(ws[1:]), out)
		case "http", "https", "xh", "xhs":
			in.request(c, parseHTTPie(nameOf(c, ws), ws[1:]), out)
		case "glab":
			glabJobToken = in.glab(c, ws[1:], glabJobToken, out)
		case "release-cli":
			in.releaseCLI(c, ws[1:], out)
		case "download-secure-files":
			in.secureFiles(c, out)
		case "bash", "sh":
			if c.Stdin != nil && strings.Contains(strings.Join(words(c.Stdin.Args), " "), "download-secure-files") {
				in.secureFiles(c, out)
			}
		}
	}
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// tokenCarrier is one way a request sends the job token.
type tokenCarrier struct {
	how string // for details: "JOB-TOKEN header", "job_token parameter", ...
	// wontWork is set when GitLab ignores this way of sending it.
	wontWork string
	// triggerOnly: the "token" field authenticates only the trigger API.
	triggerOnly bool
	// setUp: the credential was set up earlier in the job (~/.netrc). A
	// problem with it is noted once, where it was set up
	// (jobState.netrcNotes), not at every request that sends it.
	setUp bool
}

// literalCarrier is a job-token reference the shell never expanded
// (single quotes, a quoted here-document): the text "$CI_JOB_TOKEN" is sent.
var literalCarrier = tokenCarrier{how: "unexpanded reference", wontWork: "the job token reference is quoted so that the shell does not expand it, and the literal text is sent instead of the token"}

// carriers lists the ways r sends the job token, outside the URL.
func (r request) carriers() []tokenCarrier {
	var cs []tokenCarrier
	for _, h := range r.headers {
		name, val, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if !HasJobToken(val) {
			if (name == "job-token" || name == "authorization") && isJobTokenRef(val) {
				cs = append(cs, literalCarrier)
			}
			continue
		}
		switch {
		case name == "job-token":
			cs = append(cs, tokenCarrier{how: "JOB-TOKEN header"})
		case name == "job_token":
			// Rack would map it to HTTP_JOB_TOKEN, but NGINX in front of
			// GitLab (Omnibus, chart) drops header names with underscores
			// by default (underscores_in_headers off).
			cs = append(cs, tokenCarrier{how: "JOB_TOKEN header", wontWork: "the header is spelled JOB_TOKEN; NGINX in front of GitLab drops header names with underscores by default, so GitLab never sees it (use JOB-TOKEN)"})
		case name == "authorization" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(val)), "bearer "):
			cs = append(cs, tokenCarrier{how: "Authorization: Bearer header"})
		case name == "private-token" || name == "private_token":
			cs = append(cs, tokenCarrier{how: "PRIVATE-TOKEN header", wontWork: "the job token is sent as PRIVATE-TOKEN; GitLab looks it up as a personal access token and rejects it (use JOB-TOKEN)"})
		}
	}
	for _, f := range r.fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		if !HasJobToken(v) {
			if (k == "job_token" || k == "token") && isJobTokenRef(v) {
				cs = append(cs, literalCarrier)
			}
			continue
		}
		switch strings.TrimSpace(k) {
		case "job_token":
			cs = append(cs, tokenCarrier{how: "job_token field"})
		case "token":
			cs = append(cs, tokenCarrier{how: "token field", triggerOnly: true})
		case "private_token":
			cs = append(cs, tokenCarrier{how: "private_token field", wontWork: "the job token is sent as private_token; GitLab accepts it only as job_token (or the JOB-TOKEN header)"})
		case "job-token":
			cs = append(cs, tokenCarrier{how: "job-token field", wontWork: "the field is spelled job-token; GitLab reads the job token only from job_token (or the JOB-TOKEN header)"})
		}
	}
	if r.user != nil {
		if ok, why := basicAuthVerdict(*r.user); ok {
			cs = append(cs, tokenCarrier{how: "basic auth as gitlab-ci-token"})
		} else if why != "" {
			cs = append(cs, tokenCarrier{how: "basic auth", wontWork: why})
		}
	}
	return cs
}

// urlCarriers lists the ways the URL itself sends the job token.
func urlCarriers(u URL) []tokenCarrier {
	var cs []tokenCarrier
	if HasJobToken(u.Password) || HasJobToken(u.User) {
		if ok, why := basicAuthVerdict(credential{User: u.User, Secret: u.Password}); ok {
			cs = append(cs, tokenCarrier{how: "basic auth as gitlab-ci-token"})
		} else if why != "" {
			cs = append(cs, tokenCarrier{how: "basic auth", wontWork: why})
		}
	}
	if HasJobToken(u.QueryValue("job_token")) {
		cs = append(cs, tokenCarrier{how: "job_token parameter"})
	}
	if HasJobToken(u.QueryValue("token")) {
		cs = append(cs, tokenCarrier{how: "token parameter", triggerOnly: true})
	}
	if HasJobToken(u.QueryValue("private_token")) {
		cs = append(cs, tokenCarrier{how: "private_token parameter", wontWork: "the job token is passed as private_token; GitLab accepts it only as job_token (or the JOB-TOKEN header)"})
	}
	return cs
}

// request turns one HTTP command into uses and notes: one per URL.
func (in *Input) request(c *shell.Command, r request, out *Output) {
	base := r.carriers()
	for _, w := range r.urls {
		v := strings.TrimSpace(w.Value)
		if v == "" {
			continue
		}
		u, parsed := ParseURL(v)
		carriers := base
		if parsed {
			carriers = append(append([]tokenCarrier(nil), base...), urlCarriers(u)...)
			if r.netrc && r.user == nil && !u.HasUser {
				if e, ok := netrcFor(in.netrc(c), u.Host); ok {
					if ok, _ := basicAuthVerdict(credential{User: e.login, Secret: e.password}); ok {
						carriers = append(carriers, tokenCarrier{how: ".netrc as gitlab-ci-token", setUp: true})
					}
				}
			}
		} else if strings.Contains(v, "job_token="+inventory.JobToken) {
			carriers = append(carriers, tokenCarrier{how: "job_token parameter"})
		}
		if len(carriers) == 0 {
			continue
		}
		in.classifyRequest(c, r.method, w, u, parsed, carriers, out)
	}
}

func (in *Input) classifyRequest(c *shell.Command, method string, w shell.Word, u URL, parsed bool, carriers []tokenCarrier, out *Output) {
	detail := CommandText(c)
	unknownURL := !parsed || UnknownReason(u.Host) != ""
	if unknownURL {
		// The token goes to a URL that is not known statically: a reviewer
		// must see it, as unresolved, rather than lose it.
		if !looksLikeURLRef(w.Value) {
			return
		}
		if usable(carriers, false) == nil {
			return
		}
		reason := UnknownReason(w.Value)
		if reason == "" {
			reason = "the URL is not known statically"
		}
		k := access.APIRead
		if IsWrite(method) {
			k = access.APIWrite
		}
		out.Uses = append(out.Uses, in.UseAt(c, k, use.Target{Kind: use.Unknown, Value: redact.String(w.Value), Reference: w.Raw, Reason: reason}, detail))
		return
	}
	if !OnServer(in.Server, u.Host) {
		if cr := usable(carriers, true); cr != nil && !cr.setUp {
			out.Notes = append(out.Notes, in.NoteAt(c, use.OtherHost, "the job token is sent to "+u.Host+", which is not this GitLab server: "+detail))
		}
		return
	}
	ep, ok := ClassifyAPI(in.Server, u, method)
	if !ok {
		return
	}
	trigger := ep.Family == "trigger/pipeline"
	good := usable(carriers, trigger)
	if good == nil {
		for _, cr := range carriers {
			if cr.wontWork != "" {
				out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, cr.wontWork+": "+detail))
				return
			}
		}
		return
	}
	if ep.Family == "registry" && in.isOwn(ep.Target) {
		// The container registry API accepts a job token for the job's own
		// project only ("Job token access" in https://docs.gitlab.com/ci/jobs/ci_job_token/): an own-project use.
		ep.WontWork, ep.Access = "", access.APIRead
		if IsWrite(method) {
			ep.Access = access.APIWrite
		}
	}
	if ep.WontWork != "" {
		out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, ep.Family+" endpoint: "+ep.WontWork+": "+detail))
		return
	}
	t := ep.Target
	if t.Kind == use.Unknown || t.Reason != "" {
		t.Reference = w.Raw
	}
	out.Uses = append(out.Uses, in.UseAt(c, ep.Access, t, detail))
}

// usable returns the first carrier GitLab accepts for the endpoint.
func usable(cs []tokenCarrier, trigger bool) *tokenCarrier {
	for i, cr := range cs {
		if cr.wontWork != "" || (cr.triggerOnly && !trigger) {
			continue
		}
		return &cs[i]
	}
	return nil
}

var glabSpec = optSpec{value: opts("RXfFHtgpjmnlaP", "repo", "method", "field", "raw-field", "header", "hostname",
	"job-token", "token", "group", "page", "per-page", "input", "assets-links", "name", "notes", "ref", "tag-name",
	"milestone", "released-at", "asset-name", "dir", "path", "output", "output-dir")}

// glab handles one glab command. It returns whether glab is logged in
// with the job token from here on.
func (in *Input) glab(c *shell.Command, args []shell.Word, loggedIn bool, out *Output) bool {
	p := glabSpec.parse(args)
	if len(p.pos) == 0 {
		return loggedIn
	}
	sub := p.pos[0].Value
	verb := ""
	if len(p.pos) > 1 {
		verb = p.pos[1].Value
	}
	if sub == "auth" && verb == "login" {
		if t, ok := p.last("-j", "--job-token"); ok && HasJobToken(t.Value) {
			return true
		}
		return loggedIn
	}
	autologin, _ := in.getenv(c, "GLAB_ENABLE_CI_AUTOLOGIN")
	if !loggedIn && !strings.EqualFold(autologin, "true") {
		return loggedIn
	}
	// Without -R glab works on the repository it runs in: the own project.
	target := use.Target{Kind: use.ID, Value: inventory.SelfID}
	if r, ok := p.last("-R", "--repo"); ok {
		target = glabRepo(in.Server, r)
	}
	detail := CommandText(c)
	var k access.Kind
	switch sub {
	case "release":
		switch verb {
		case "create", "upload", "delete", "update":
			k = access.ReleasesWrite
		case "download", "list", "view", "ls":
			k = access.ReleasesRead
			if verb == "download" {
				detail += " (assets that link to the package registry also need packages-read on the project that holds them)"
			}
		}
	case "securefile", "secure-file", "securefiles":
		switch verb {
		case "download", "get", "list", "ls":
			k = access.SecureFilesRead
		case "create", "upload", "remove", "delete", "rm":
			k = access.SecureFilesWrite
		}
	case "job", "ci":
		if verb == "artifact" || verb == "artifacts" {
			k = access.ArtifactsRead
		}
		if sub == "ci" && (verb == "run" || verb == "trigger" || verb == "retry" || verb == "cancel" || verb == "delete") {
			out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, "glab ci "+verb+" calls pipeline endpoints that do not accept a job token: "+detail))
			return loggedIn
		}
	case "api":
		in.glabAPI(c, p, target, verb, out)
		return loggedIn
	case "issue", "variable", "label", "milestone", "snippet", "schedule", "deploy-key", "repo", "project":
		out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, "glab "+sub+" calls endpoints that do not accept a job token: "+detail))
		return loggedIn
	}
	if k != "" {
		out.Uses = append(out.Uses, in.UseAt(c, k, target, detail))
	}
	return loggedIn
}

// glabRepo turns a -R value (group/proj, host/group/proj or a URL) into a
// target.
func glabRepo(srv inventory.Server, w shell.Word) use.Target {
	v := w.Value
	if u, ok := ParseURL(v); ok {
		t := GitTarget(srv, u)
		t.Reference = w.Raw
		return t
	}
	if host, rest, ok := strings.Cut(v, "/"); ok && strings.Contains(host, ".") && OnServer(srv, host) {
		v = rest
	}
	t := use.Target{Kind: use.Path, Value: strings.Trim(v, "/"), Reference: w.Raw}
	if r := UnknownReason(v); r != "" {
		t.Reason = r
	}
	return t
}

// glabAPI classifies "glab api <path>", where :fullpath and :id stand for
// the -R project.
func (in *Input) glabAPI(c *shell.Command, p parsed, target use.Target, apiPath string, out *Output) {
	ref := inventory.SelfID
	if target.Kind == use.Path && target.Reason == "" {
		ref = strings.ReplaceAll(target.Value, "/", "%2F")
	}
	apiPath = strings.NewReplacer(":fullpath", ref, ":id", ref).Replace(strings.TrimPrefix(apiPath, "/"))
	method := "GET"
	if p.has("-f", "-F", "--field", "--raw-field") {
		method = "POST"
	}
	if m, ok := p.last("-X", "--method"); ok {
		method = strings.ToUpper(m.Value)
	}
	u, ok := ParseURL(in.Server.URL + "/api/v4/" + strings.TrimPrefix(apiPath, "api/v4/"))
	if !ok {
		return
	}
	in.classifyRequest(c, method, shell.Word{Raw: apiPath, Value: u.Scheme + "://" + u.Host + u.Path}, u, true,
		[]tokenCarrier{{how: "glab job-token login"}}, out)
}

var releaseCLISpec = optSpec{value: opts("", "server-url", "job-token", "private-token", "project-id", "timeout",
	"name", "description", "tag-name", "ref", "assets-link", "milestone", "released-at", "file", "tag-message",
	"config-file")}

// releaseCLI handles GitLab's release-cli (P36): it authenticates with
// --job-token (default $CI_JOB_TOKEN) on --project-id (default
// $CI_PROJECT_ID).
func (in *Input) releaseCLI(c *shell.Command, args []shell.Word, out *Output) {
	p := releaseCLISpec.parse(args)
	tok, ok := p.last("--job-token")
	token := tok.Value
	if !ok {
		token, _ = in.getenv(c, "CI_JOB_TOKEN")
	}
	if p.has("--private-token") || !HasJobToken(token) || in.releaseCLIOtherServer(c, p, out) {
		return
	}
	pid, ok := p.last("--project-id")
	id := pid.Value
	if !ok {
		id, _ = in.getenv(c, "CI_PROJECT_ID")
	}
	k := access.ReleasesWrite
	for _, w := range p.pos {
		if w.Value == "get" {
			k = access.ReleasesRead
		}
	}
	t := projectRef(id)
	t.Reference = pid.Raw
	out.Uses = append(out.Uses, in.UseAt(c, k, t, CommandText(c)))
}

// secureFiles handles GitLab's download-secure-files tool (P35): it reads
// CI_PROJECT_ID, CI_API_V4_URL and CI_JOB_TOKEN from the environment, so
// it reaches the own project unless the job overrides CI_PROJECT_ID.
func (in *Input) secureFiles(c *shell.Command, out *Output) {
	tok, _ := in.getenv(c, "CI_JOB_TOKEN")
	if !HasJobToken(tok) {
		return
	}
	id, _ := in.getenv(c, "CI_PROJECT_ID")
	out.Uses = append(out.Uses, in.UseAt(c, access.SecureFilesRead, projectRef(id), CommandText(c)+" (download-secure-files uses CI_PROJECT_ID)"))
}

// isOwn reports whether a target names the job's own project.
func (in *Input) isOwn(t use.Target) bool {
	env := in.envOf(nil)
	switch t.Kind {
	case use.ID:
		id, _ := env.Get("CI_PROJECT_ID")
		return t.Value == inventory.SelfID || t.Value == id
	case use.Path:
		p, _ := env.Get("CI_PROJECT_PATH")
		return strings.EqualFold(t.Value, p)
	}
	return false
}
