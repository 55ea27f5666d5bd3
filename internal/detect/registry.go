package detect

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// registryDetector finds container registry pulls and pushes with the job
// token: image: and services: pulled by the runner with the job payload
// credentials (P12), and docker/podman/nerdctl/buildah/skopeo/crane/oras
// pulls and pushes after a job-token login or auth file (P14, P15).
//
// Sources: https://docs.gitlab.com/ci/docker/using_docker_images/ (the runner authenticates image pulls
// from the GitLab registry and the dependency proxy with the job payload);
// https://docs.gitlab.com/ci/jobs/ci_job_token/ (cross-project pull needs the callee's allowlist,
// cross-project push is never allowed); the runner resolves credentials
// in the order DOCKER_AUTH_CONFIG, the runner's home config, then the job
// payload (getAuthConfig quoted in
// https://gitlab.com/gitlab-org/gitlab-runner/-/issues/26778).
//
// Dependency proxy images (<host>/<group>/dependency_proxy/containers/...)
// are group-scoped: the proxy checks the pipeline user's membership in the
// group, not a project's job token allowlist (https://docs.gitlab.com/user/packages/dependency_proxy/, not
// confirmed). The proxy of the job's own group is reported as an
// own-project note; another group's as a use with a Group target whose
// reason says so, which the graph lists as unresolved "group-scoped".
type registryDetector struct{}

// Name implements Detector.
func (registryDetector) Name() string { return "registry" }

// Detect implements Detector.
func (d registryDetector) Detect(in *Input, out *Output) { replay{d}.Detect(in, out) }

func (registryDetector) stateNotes() string { return "registry" }

func (registryDetector) start(in *Input, out *Output) func(*shell.Command, *jobState) {
	yamlImages(in, out)
	if len(in.Commands) == 0 {
		return nil
	}
	return func(c *shell.Command, st *jobState) { st.registryUses(out, c) }
}

// registryState is what earlier commands of a job leave for registry
// tools.
type registryState struct {
	// reg holds registry credentials: store (a config file or "login")
	// -> registry host -> credential. Any registry tool of the job is
	// assumed to see every store (documented over-approximation: jobs
	// rarely write a config for one tool and pull with another).
	reg map[string]map[string]cred
}

// ---- image references --------------------------------------------------------

type imageKind int

const (
	imgOther    imageKind = iota // Docker Hub or another registry
	imgRegistry                  // this GitLab's container registry
	imgProxy                     // a group's dependency proxy
	imgUnknown                   // a registry host that is not known statically
)

// image is a classified image reference.
type image struct {
	kind   imageKind
	host   string
	path   string // registry path (lower case), or the proxy's group
	reason string // for imgUnknown
	ref    string // as expanded
}

// classifyImage classifies an expanded image reference.
func classifyImage(srv inventory.Server, ref string) image {
	ref = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ref), "docker://"))
	// The runner keeps an unknown "$VAR" as written; read it as "${VAR}"
	// so that "$CI_REGISTRY/group/image" still has a (variable) host.
	host, p, ok := ImageRef(bracedLead(ref))
	if !ok {
		// "$BUILD_IMAGE" (a project variable): it may name another
		// project's registry image. "gitlab/${name}:${tag}" may not: its
		// first segment is literal and, by Docker's rule, no registry host,
		// so the image is on Docker Hub whatever the variables hold
		// (omnibus-gitlab's scripts/ci/deploy_docker.sh runs such an image).
		if dockerHubLead(ref) {
			return image{ref: ref}
		}
		if r := UnknownReason(ref); r != "" {
			return image{kind: imgUnknown, path: bracedLead(ref), ref: ref, reason: "the image is not known statically: " + r}
		}
		return image{ref: ref}
	}
	im := image{host: host, path: p, ref: ref}
	if r := UnknownReason(rawHost("x://" + ref)); r != "" {
		im.kind, im.reason = imgUnknown, "the registry host is not known: "+r
		if strings.EqualFold(host, "${CI_REGISTRY}") || strings.EqualFold(host, "$CI_REGISTRY") {
			im.reason = "CI_REGISTRY is not known: set registry: in inventory.yaml or give --registry"
		}
		return im
	}
	if i := strings.Index(p, "/dependency_proxy/containers/"); i > 0 && (OnServer(srv, host) || OnRegistry(srv, host)) {
		im.kind, im.path = imgProxy, p[:i]
		return im
	}
	if OnRegistry(srv, host) {
		im.kind = imgRegistry
		// The tag and digest do not change the target: only unknown parts
		// of the repository path do.
		repo := ref[strings.IndexByte(ref, '/')+1:]
		if i := strings.IndexByte(repo, '@'); i >= 0 {
			repo = repo[:i]
		}
		if i := strings.LastIndexByte(repo, ':'); i >= 0 && !strings.Contains(repo[i:], "/") {
			repo = repo[:i]
		}
		if r := UnknownReason(repo); r != "" {
			im.reason = r
		}
	}
	return im
}

// dockerHubLead reports whether ref starts with a literal first segment
// that Docker does not read as a registry host ("namespace/..."): such a
// reference names a Docker Hub image, whatever follows it.
func dockerHubLead(ref string) bool {
	slash := strings.IndexByte(ref, '/')
	if slash <= 0 {
		return false
	}
	first := ref[:slash]
	return !strings.ContainsAny(first, "$.:`") && first != "localhost"
}

// bracedLead rewrites a leading "$NAME" as "${NAME}".
func bracedLead(ref string) string {
	if !strings.HasPrefix(ref, "$") || strings.HasPrefix(ref, "${") || strings.HasPrefix(ref, "$(") {
		return ref
	}
	i := 1
	for i < len(ref) && (ref[i] == '_' || ref[i] >= 'A' && ref[i] <= 'Z' || ref[i] >= 'a' && ref[i] <= 'z' || ref[i] >= '0' && ref[i] <= '9') {
		i++
	}
	if i == 1 {
		return ref
	}
	return "${" + ref[1:i] + "}" + ref[i:]
}

// target is the use target of a registry image.
func (im image) target() use.Target {
	switch im.kind {
	case imgProxy:
		return use.Target{Kind: use.Group, Value: im.path, Reason: "group-scoped: the dependency proxy of group " + im.path +
			" is reached with the job token but governed by the pipeline user's membership in that group, not by a project's job token allowlist"}
	case imgUnknown:
		return use.Target{Kind: use.Image, Value: im.path, Reference: im.ref, Reason: im.reason}
	}
	t := use.Target{Kind: use.Image, Value: im.path}
	if im.reason != "" {
		t.Reference, t.Reason = im.ref, im.reason
	}
	return t
}

// credFor returns the registry credential the job set up for im. An image
// whose host is not known gets the credential for this GitLab's registry:
// that is where a statically unknown image would carry the job token.
func (st *jobState) credFor(im image) (cred, bool) {
	if im.host != "" {
		if c, ok := st.regCred(im.host); ok || im.kind != imgUnknown {
			return c, ok
		}
	}
	if im.kind != imgUnknown {
		return cred{}, false
	}
	reg := st.in.Server.Registry
	if reg == "" {
		reg = st.in.Server.FQDN
	}
	return st.regCred(reg)
}

// ownProxy reports whether a dependency proxy group holds the caller.
func (im image) ownProxy(caller string) bool {
	return im.kind == imgProxy && isOwnPath(im.path, caller)
}

// ---- image: and services: ----------------------------------------------------

// yamlImages reports image: and services: on this GitLab's registry or
// dependency proxy: the runner pulls them with the job payload
// credentials unless DOCKER_AUTH_CONFIG has others for the host.
func yamlImages(in *Input, out *Output) {
	var imgs []ciconfig.Image
	if in.Job.Image != nil {
		imgs = append(imgs, *in.Job.Image)
	}
	imgs = append(imgs, in.Job.Services...)
	var auth map[string]cred
	authValid := false
	if v := in.envValue(nil, "DOCKER_AUTH_CONFIG"); v != "" {
		auth, authValid = parseAuthJSON(output{value: v}, loc.Pos{})
	}
	for _, img := range imgs {
		w := shell.ExpandVars(img.Name, in.envOf(nil))
		im := classifyImage(in.Server, w.Value)
		if im.kind == imgOther {
			continue
		}
		detail := "image " + img.Name + " (pulled by the runner with the job token)"
		if cr, ok := authFor(auth, im); authValid && ok {
			switch cr.kind {
			case credJobToken:
				detail = "image " + img.Name + " (pulled by the runner with the job token from DOCKER_AUTH_CONFIG)"
			case credOther:
				if !isOwnPath(in.Caller.Path, im.path) {
					out.Notes = append(out.Notes, in.NoteAtPos(img.Pos, use.NotJobToken, "DOCKER_AUTH_CONFIG has credentials for "+im.host+" that are not the job token; the runner pulls "+img.Name+" with them"))
				}
				continue
			default:
				out.Notes = append(out.Notes, in.NoteAtPos(img.Pos, use.WontWork, "DOCKER_AUTH_CONFIG has unusable credentials for "+im.host+" ("+credProblem(cr)+"); the pull of "+img.Name+" fails"))
				continue
			}
		}
		if im.ownProxy(in.Caller.Path) {
			out.Notes = append(out.Notes, in.NoteAtPos(img.Pos, use.OwnProject, "dependency proxy of the job's own group "+im.path+" (group-scoped, no allowlist entry): "+img.Name))
			continue
		}
		out.Uses = append(out.Uses, in.UseAtPos(img.Pos, access.ContainerRead, im.target(), detail))
	}
}

func credProblem(cr cred) string {
	switch cr.kind {
	case credWrongUser:
		return wrongUserText(cr.user)
	case credLiteral:
		return literalText
	}
	return "not the job token"
}

// authFor finds the credential of an auth config for an image: the most
// specific "host/namespace" key, then the host (runner MR 4727 added
// namespaced keys).
func authFor(auth map[string]cred, im image) (cred, bool) {
	if len(auth) == 0 {
		return cred{}, false
	}
	full := im.host + "/" + im.path
	best, found := "", false
	for k := range auth {
		if (full == k || strings.HasPrefix(full, k+"/")) && len(k) > len(best) {
			best, found = k, true
		}
	}
	if found {
		return auth[best], true
	}
	for k, c := range auth {
		if sameRegistryHost(k, im.host) {
			return c, true
		}
	}
	return cred{}, false
}

// ---- auth files and logins ---------------------------------------------------

// normRegistryHost normalises an auths key or login server.
func normRegistryHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	h = strings.TrimSuffix(h, "/")
	h = strings.TrimSuffix(strings.TrimSuffix(h, "/v1"), "/v2")
	switch h {
	case "", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return h
}

// sameRegistryHost compares registry hosts, ignoring a default port on
// one side.
func sameRegistryHost(a, b string) bool {
	a, b = normRegistryHost(a), normRegistryHost(b)
	if a == b {
		return true
	}
	return hostname(a) == hostname(b) && (a == hostname(a) || b == hostname(b))
}

var authsHostRE = regexp.MustCompile(`"auths"\s*:\s*\{\s*"([^"]+)"`)

// parseAuthJSON reads a Docker config.json / containers auth.json (or
// DOCKER_AUTH_CONFIG). ok is false when the text is not valid JSON and no
// host can be found in it.
func parseAuthJSON(o output, pos loc.Pos) (map[string]cred, bool) {
	var doc struct {
		Auths map[string]struct {
			Auth     string `json:"auth"`
			Username string `json:"username"`
			Password string `json:"password"`
		} `json:"auths"`
		CredHelpers map[string]string `json:"credHelpers"`
	}
	out := map[string]cred{}
	if err := json.Unmarshal([]byte(strings.TrimSpace(o.value)), &doc); err != nil {
		// echo "{\"auths\":{\"$CI_REGISTRY\":{\"auth\":\"$(printf ... | base64)\"}}}"
		// keeps its quotes but may not parse once the command
		// substitution is shown; find the host and judge the text.
		m := authsHostRE.FindStringSubmatch(o.value)
		if m == nil {
			return nil, false
		}
		out[normRegistryHost(m[1])] = authCred(o, o.value)
		return out, true
	}
	for h, a := range doc.Auths {
		var cr cred
		if a.Username != "" || a.Password != "" {
			cr = classifyUserPass(a.Username, a.Password)
		} else {
			cr = authCred(o, a.Auth)
		}
		if cr.kind == credNone {
			continue
		}
		out[normRegistryHost(h)] = cr
	}
	for h := range doc.CredHelpers {
		out[normRegistryHost(h)] = cred{kind: credOther, user: "(credential helper)"}
	}
	return out, true
}

// authCred judges a base64 "auth" value (or, for text that did not parse,
// the whole text).
func authCred(o output, auth string) cred {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth)); err == nil && len(b) > 0 {
		u, p, _ := strings.Cut(string(b), ":")
		return classifyUserPass(u, p)
	}
	switch {
	case strings.Contains(auth, "$(") && o.substituted && tokenRefRE.MatchString(o.raw):
		// "$(printf '%s:%s' "$CI_REGISTRY_USER" "$CI_REGISTRY_PASSWORD" | base64)":
		// computed at run time from the job token.
		if strings.Contains(o.raw, "CI_REGISTRY_USER") || strings.Contains(o.raw, "CI_DEPENDENCY_PROXY_USER") || strings.Contains(o.raw, inventory.JobTokenUser) {
			return cred{kind: credJobToken, user: inventory.JobTokenUser}
		}
		return cred{kind: credWrongUser}
	case HasJobToken(auth):
		u, p, ok := strings.Cut(auth, ":")
		if ok {
			return classifyUserPass(u, p)
		}
		if strings.Contains(auth, inventory.JobTokenUser) {
			return cred{kind: credJobToken, user: inventory.JobTokenUser}
		}
		return cred{kind: credWrongUser}
	case literalTokenRef(auth):
		return cred{kind: credLiteral}
	case strings.TrimSpace(auth) == "":
		return cred{}
	}
	return cred{kind: credOther}
}

// isRegistryAuthFile reports whether p is a registry auth file: a Docker
// config.json (~/.docker, /kaniko/.docker, $DOCKER_CONFIG) or a
// containers auth.json ($REGISTRY_AUTH_FILE, .../containers/auth.json).
func (in *Input) isRegistryAuthFile(c *shell.Command, p string) bool {
	base := path.Base(p)
	dir := path.Dir(p)
	switch base {
	case "config.json":
		dc := strings.TrimSuffix(in.envValue(c, "DOCKER_CONFIG"), "/")
		return strings.Contains(p, ".docker/") || strings.Contains(p, "kaniko/") || dc != "" && dir == dc
	case "auth.json":
		return strings.Contains(p, "containers/") || p == in.envValue(c, "REGISTRY_AUTH_FILE")
	}
	return false
}

// registryStore names the credential store a file belongs to.
func registryStore(p string) string {
	switch {
	case strings.Contains(p, "kaniko/"):
		return "kaniko"
	case path.Base(p) == "auth.json":
		return "containers"
	}
	return "docker"
}

// applyRegistryFile records a written registry auth file.
func (st *jobState) applyRegistryFile(c *shell.Command, w fileWrite) []stateNote {
	store := registryStore(w.path)
	content, changed := st.writeFile("reg:"+store, w)
	if !changed {
		return nil
	}
	o := w.out
	o.value = content
	creds, ok := parseAuthJSON(o, c.Pos)
	if !ok {
		delete(st.reg, store)
		if HasJobToken(content) || tokenRefRE.MatchString(w.out.raw) {
			return []stateNote{{family: "registry", note: st.in.NoteAt(c, use.WontWork,
				"the registry auth file "+w.path+" is not valid JSON (unescaped quotes inside double quotes?), so its job-token credentials are never used: "+cmdLine(c))}}
		}
		return nil
	}
	for h, cr := range creds {
		cr.pos, cr.via = c.Pos, "registry credentials written to "+w.path+" at "+at(c.Pos)
		creds[h] = cr
	}
	st.reg[store] = creds
	var notes []stateNote
	for _, h := range sortedKeys(creds) {
		if n, ok := st.loginNote(c, h, creds[h], "the auth file "+w.path); ok {
			notes = append(notes, n)
		}
	}
	return notes
}

// loginNote explains a registry credential that cannot work or goes to
// another host.
func (st *jobState) loginNote(c *shell.Command, host string, cr cred, what string) (stateNote, bool) {
	srv := st.in.Server
	known := UnknownReason(host) == ""
	gitlab := OnRegistry(srv, host) || OnServer(srv, host)
	var kind use.NoteKind
	var detail string
	switch cr.kind {
	case credJobToken, credWrongUser:
		if known && !gitlab {
			shown := host
			if host == "docker.io" {
				shown = "Docker Hub (docker.io)"
			}
			kind, detail = use.OtherHost, what+" sends the job token to "+shown+", which is not this GitLab (a leak, not an access)"
		} else if cr.kind == credWrongUser {
			kind, detail = use.WontWork, what+": "+wrongUserText(cr.user)
		}
	case credLiteral:
		if gitlab {
			kind, detail = use.WontWork, what+": "+literalText
		}
	}
	if kind == "" {
		return stateNote{}, false
	}
	return stateNote{family: "registry", note: st.in.NoteAt(c, kind, detail+": "+cmdLine(c))}, true
}

// containerTools are the registry clients handled here.
var containerTools = setOf("docker", "podman", "nerdctl", "buildah", "skopeo", "crane", "oras")

// dockerGlobalValue are global options of docker/podman/nerdctl that
// take a value.
var dockerGlobalValue = setOf("--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert",
	"--tlskey", "--root", "--runroot", "--storage-driver", "--connection", "--url", "--identity", "--namespace", "-n",
	"--address", "-a", "--cgroup-manager", "--registries-conf")

// dockerGlobal strips docker/podman global options before the subcommand.
func dockerGlobal(args []shell.Word) []shell.Word {
	for len(args) > 0 && strings.HasPrefix(args[0].Value, "-") {
		name := args[0].Value
		if dockerGlobalValue[name] && !strings.Contains(name, "=") && len(args) > 1 {
			args = args[2:]
			continue
		}
		args = args[1:]
	}
	return args
}

var loginSpec = optSpec{value: opts("up", "username", "password", "authfile", "cert-dir", "secret",
	"compat-auth-file")}

// applyRegistry records logins and logouts.
func (st *jobState) applyRegistry(c *shell.Command) []stateNote {
	ws := argv(c)
	tool := nameOf(c, ws)
	if !containerTools[tool] {
		return nil
	}
	args := dockerGlobal(ws[1:])
	if tool == "crane" && len(args) > 0 && args[0].Value == "auth" {
		args = args[1:]
	}
	if len(args) == 0 {
		return nil
	}
	store := "docker"
	if tool == "podman" || tool == "buildah" || tool == "skopeo" {
		store = "containers"
	}
	switch args[0].Value {
	case "login":
		p := loginSpec.parse(args[1:])
		host := "docker.io"
		if len(p.pos) > 0 {
			host = p.pos[0].Value
		}
		host = normRegistryHost(host)
		user := ""
		if u, ok := p.last("-u", "--username"); ok {
			user = u.Value
		}
		pass, ok := p.last("-p", "--password")
		password := pass.Value
		if !ok && p.has("--password-stdin") {
			o, _ := st.in.stdin(c, nil)
			password = o.value
		}
		cr := classifyUserPass(user, strings.TrimSpace(password))
		if cr.kind == credNone {
			return nil
		}
		cr.pos, cr.via = c.Pos, tool+" login at "+at(c.Pos)
		if st.reg[store] == nil {
			st.reg[store] = map[string]cred{}
		}
		st.reg[store][host] = cr
		if n, ok := st.loginNote(c, host, cr, tool+" login"); ok {
			return []stateNote{n}
		}
	case "logout":
		p := loginSpec.parse(args[1:])
		host := "docker.io"
		if len(p.pos) > 0 {
			host = p.pos[0].Value
		}
		for _, m := range st.reg {
			for h := range m {
				if sameRegistryHost(h, host) || p.has("--all", "-a") {
					delete(m, h)
				}
			}
		}
	}
	return nil
}

// regCred returns the registry credential for host from any store.
func (st *jobState) regCred(host string) (cred, bool) {
	for _, store := range sortedKeys(st.reg) {
		m := st.reg[store]
		if c, ok := m[normRegistryHost(host)]; ok {
			return c, true
		}
		for _, h := range sortedKeys(m) {
			if sameRegistryHost(h, host) {
				return m[h], true
			}
		}
	}
	return cred{}, false
}

// registryAccess reports one pull or push if it carries the job token.
func (st *jobState) registryAccess(out *Output, s site, op imageOp, text string) {
	in := st.in
	im := classifyImage(in.Server, op.ref)
	if im.kind == imgOther {
		return
	}
	var cr cred
	var ok bool
	if op.inline != nil {
		cr, ok = *op.inline, true
	} else {
		cr, ok = st.credFor(im)
	}
	if !ok {
		return // no credentials in the job: an anonymous pull or push sends no token
	}
	own := im.kind == imgRegistry && im.reason == "" && isOwnPath(in.Caller.Path, im.path)
	switch cr.kind {
	case credJobToken:
	case credOther:
		if !own && im.kind != imgProxy {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.NotJobToken, "the registry credentials for "+im.host+" are not the job token: "+text))
		}
		return
	default:
		if op.inline != nil {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.WontWork, credProblem(cr)+": "+text))
		}
		return // explained at the login
	}
	detail := detailVia(text, cr.via)
	if op.inline != nil {
		detail = text
	}
	if im.ownProxy(in.Caller.Path) {
		out.Notes = append(out.Notes, in.noteAtSite(s, use.OwnProject, "dependency proxy of the job's own group "+im.path+" (group-scoped, no allowlist entry): "+text))
		return
	}
	k := access.ContainerRead
	if op.write {
		k = access.ContainerWrite
	}
	out.Uses = append(out.Uses, in.useAtSite(s, k, im.target(), detail))
	if op.write && !own && im.kind == imgRegistry && im.reason == "" {
		out.Notes = append(out.Notes, in.noteAtSite(s, use.WontWork, "push to another project's registry ("+im.path+") with the job token: GitLab never allows it; use a deploy token or project access token with write_registry: "+text))
	}
}

// forwardedIntoContainer notes "docker run -e CI_JOB_TOKEN=..." (P39): what
// the token reaches inside the container is not visible to the scan.
func (st *jobState) forwardedIntoContainer(out *Output, c *shell.Command) {
	ws := argv(c)
	tool := nameOf(c, ws)
	if tool != "docker" && tool != "podman" && tool != "nerdctl" {
		return
	}
	args := dockerGlobal(ws[1:])
	if len(args) == 0 || args[0].Value != "run" && args[0].Value != "create" && args[0].Value != "exec" {
		return
	}
	p := dockerRunSpec.parse(args[1:])
	for _, w := range p.all("-e", "--env") {
		name, val, hasVal := strings.Cut(w.Value, "=")
		if !hasVal {
			val = st.in.envValue(c, name)
		}
		if HasJobToken(val) {
			out.Notes = append(out.Notes, st.in.NoteAt(c, use.NotFetched, "the job token is passed into a container as "+name+"; what it reaches from there is not visible to the scan: "+CommandText(c)))
			return
		}
	}
}
