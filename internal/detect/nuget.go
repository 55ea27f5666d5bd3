package detect

import (
	"encoding/xml"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// nugetDetector finds NuGet feeds on GitLab's package registry reached
// with the job token (docs/patterns.md P23). A feed is a source name and
// URL (…/projects/<id>/packages/nuget/index.json, or the group form
// …/groups/<id>/-/packages/nuget/index.json) with credentials joined to
// it by that name: <packageSources><add key="N" value="URL"/> and
// <packageSourceCredentials><N> in nuget.config (committed or written by
// the job), or "dotnet nuget add source URL --name N --username
// gitlab-ci-token --password $CI_JOB_TOKEN" / "nuget sources add". GitLab
// takes the job token over basic auth with user gitlab-ci-token
// (https://docs.gitlab.com/user/packages/nuget_repository/, "Publish a
// NuGet package by using CI/CD"). Restores (dotnet restore, build, test,
// publish, pack without --no-restore; nuget restore) read every
// credentialed feed; "dotnet nuget push --source N" writes to that one.
// Group endpoints only install: "Some actions, like publishing a
// package, are only available on the project endpoint" (same page, "Use
// the GitLab endpoint for NuGet packages").
type nugetDetector struct{}

func (nugetDetector) Name() string { return "nuget" }

// nugetFeed is one package source as NuGet would see it.
type nugetFeed struct {
	name, url  string // url expanded
	raw        string // url as written
	user, pass string // expanded
	at         site   // where the source's URL is set
}

// nugetFeeds are the sources of a job by lower-case name, in order.
type nugetFeeds struct {
	byName map[string]*nugetFeed
	order  []string
}

func (fs *nugetFeeds) get(name string) *nugetFeed {
	k := strings.ToLower(name)
	if f, ok := fs.byName[k]; ok {
		return f
	}
	f := &nugetFeed{name: name}
	fs.byName[k] = f
	fs.order = append(fs.order, k)
	return f
}

// find returns the feed a --source value names: a source name, or a URL
// equal to a source's.
func (fs *nugetFeeds) find(v string) *nugetFeed {
	if f, ok := fs.byName[strings.ToLower(v)]; ok {
		return f
	}
	for _, k := range fs.order {
		if f := fs.byName[k]; strings.EqualFold(strings.TrimSuffix(f.url, "/"), strings.TrimSuffix(v, "/")) {
			return f
		}
	}
	return nil
}

// nugetVarRE matches %NAME%: NuGet expands environment variables written
// so in nuget.config values
// (https://learn.microsoft.com/nuget/reference/nuget-config-file#using-environment-variables).
var nugetVarRE = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_]*)%`)

func nugetExpand(s string, env shell.Env) string {
	return nugetVarRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env.Get(m[1 : len(m)-1]); ok {
			return v
		}
		return m
	})
}

// parseNugetConfig adds the sources and credentials of a nuget.config to
// fs. file is the repository file ("" when the job wrote it; at is then
// the writing command). <clear/> drops the sources before it. Broken XML
// keeps what was read before the error.
func (fs *nugetFeeds) parseNugetConfig(file, text string, at site, env shell.Env) {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false
	var stack []string
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			grand := ""
			if len(stack) > 1 {
				grand = stack[len(stack)-2]
			}
			n := t.Name.Local
			stack = append(stack, n)
			attr := func(k string) string {
				for _, a := range t.Attr {
					if strings.EqualFold(a.Name.Local, k) {
						return a.Value
					}
				}
				return ""
			}
			switch {
			case parent == "packageSources" && n == "clear":
				fs.byName, fs.order = map[string]*nugetFeed{}, nil
			case parent == "packageSources" && n == "add" && attr("key") != "":
				f := fs.get(attr("key"))
				f.raw, f.url = attr("value"), nugetExpand(attr("value"), env)
				f.at = at
				if file != "" {
					f.at = fileSite(file, line)
				}
			case grand == "packageSourceCredentials" && n == "add":
				// Element names encode spaces as _x0020_ (NuGet's
				// XmlConvert encoding of the source key).
				f := fs.get(strings.ReplaceAll(parent, "_x0020_", " "))
				switch strings.ToLower(attr("key")) {
				case "username":
					f.user = nugetExpand(attr("value"), env)
				case "cleartextpassword", "password":
					f.pass = nugetExpand(attr("value"), env)
				}
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// nugetSpec covers dotnet nuget add/update source, push and restore.
var nugetSpec = optSpec{value: opts("nsupk", "name", "source", "username", "password", "api-key", "configfile",
	"valid-authentication-types", "protocol-version", "symbol-source", "symbol-api-key", "timeout", "packages",
	"runtime", "framework", "configuration", "verbosity", "output", "property")}

// nugetCLISpec covers nuget.exe's -Name value options (case-insensitive
// there; matched lower-cased).
var nugetCLISpec = optSpec{value: opts("", "name", "source", "username", "password", "configfile", "apikey",
	"validauthenticationtypes", "protocolversion")}

// nugetRestores: dotnet commands that restore first unless --no-restore
// (https://learn.microsoft.com/dotnet/core/tools/dotnet-restore#implicit-restore).
var nugetRestores = setOf("restore", "build", "test", "run", "publish", "pack")

func (nugetDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	fs := &nugetFeeds{byName: map[string]*nugetFeed{}}
	started, replaced := false, false
	var prev []fileWrite
	seen := map[string]bool{}
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		if tool == "mono" && len(ws) > 1 {
			ws = ws[1:]
			tool = nameOf(c, ws)
		}
		if tool != "dotnet" && tool != "nuget" {
			for _, w := range in.commandWrites(c, func(d string) bool { return strings.EqualFold(path.Base(d), "nuget.config") }, prev) {
				prev = append(prev, w)
				if rel, ok := in.repoPath(w.path); ok && strings.EqualFold(rel, "nuget.config") && !w.append {
					replaced = true // the committed file is gone
				}
				if w.known {
					fs.parseNugetConfig(w.out.from, w.out.value, cmdSite(c), in.envOf(c))
				}
			}
			continue
		}
		if !started && !replaced {
			// The committed nuget.config comes first; what the job writes
			// or adds later overrides it.
			started = true
			for _, name := range []string{"nuget.config", "NuGet.Config", "NuGet.config"} {
				if text, ok := in.readRepo(name); ok {
					committed := &nugetFeeds{byName: map[string]*nugetFeed{}}
					committed.parseNugetConfig(name, text, site{}, in.envOf(c))
					for _, k := range committed.order {
						if _, dup := fs.byName[k]; !dup {
							fs.byName[k], fs.order = committed.byName[k], append(fs.order, k)
						}
					}
					break
				}
			}
		}
		in.nugetCommand(c, tool, ws[1:], fs, seen, out)
	}
}

// nugetCommand applies one dotnet or nuget command: a source added or
// updated, a restore, a push.
func (in *Input) nugetCommand(c *shell.Command, tool string, args []shell.Word, fs *nugetFeeds, seen map[string]bool, out *Output) {
	var sub []string
	var p parsed
	if tool == "dotnet" {
		p = nugetSpec.parse(args)
	} else {
		low := make([]shell.Word, len(args))
		for i, a := range args {
			low[i] = a
			if strings.HasPrefix(a.Value, "-") {
				low[i].Value = "-" + strings.ToLower(a.Value)
			}
		}
		p = nugetCLISpec.parse(low)
	}
	for _, w := range p.pos {
		sub = append(sub, strings.ToLower(w.Value))
	}
	has := func(ws ...string) bool {
		for i, w := range ws {
			if i >= len(sub) || sub[i] != w {
				return false
			}
		}
		return true
	}
	val := func(names ...string) string { w, _ := p.last(names...); return w.Value }
	switch {
	case tool == "dotnet" && (has("nuget", "add", "source") || has("nuget", "update", "source")):
		name := val("-n", "--name")
		url := val("-s", "--source")
		if has("nuget", "add") && len(p.pos) > 3 {
			url = p.pos[3].Value
		} else if has("nuget", "update") && len(p.pos) > 3 {
			name = p.pos[3].Value
		}
		if name == "" {
			name = url
		}
		in.nugetSetSource(c, fs.get(name), url, val("-u", "--username"), val("-p", "--password"))
	case tool == "nuget" && (has("sources", "add") || has("sources", "update") || has("source", "add")):
		in.nugetSetSource(c, fs.get(val("--name")), val("--source"), val("--username"), val("--password"))
	case tool == "dotnet" && has("nuget", "push"), tool == "nuget" && has("push"):
		src := val("-s", "--source")
		f := fs.find(src)
		if f == nil {
			return
		}
		in.nugetFeedUse(c, f, true, seen, out)
	case tool == "dotnet" && len(sub) > 0 && nugetRestores[sub[0]] && !p.has("--no-restore"),
		tool == "dotnet" && has("add", "package") || has("add") && len(sub) > 2 && sub[2] == "package",
		tool == "nuget" && (has("restore") || has("install")):
		feeds := fs.order
		if srcs := p.all("-s", "--source"); len(srcs) > 0 {
			// Explicit sources replace the configured ones.
			feeds = nil
			for _, s := range srcs {
				if f := fs.find(s.Value); f != nil {
					feeds = append(feeds, strings.ToLower(f.name))
				}
			}
		}
		for _, k := range feeds {
			if f := fs.byName[k]; f != nil {
				in.nugetFeedUse(c, f, false, seen, out)
			}
		}
	}
}

func (in *Input) nugetSetSource(c *shell.Command, f *nugetFeed, url, user, pass string) {
	if url != "" {
		f.url, f.raw, f.at = url, url, cmdSite(c)
		for _, a := range c.Args {
			if a.Value == url {
				f.raw = a.Raw
			}
		}
	}
	if user != "" || pass != "" {
		f.user, f.pass = user, pass
	}
}

// nugetFeedUse reports a restore from (or push to) a feed when the job
// token is its password.
func (in *Input) nugetFeedUse(c *shell.Command, f *nugetFeed, write bool, seen map[string]bool, out *Output) {
	if f.url == "" || !HasJobToken(f.pass) {
		return
	}
	key := strings.ToLower(f.name) + map[bool]string{true: " push", false: " restore"}[write]
	if seen[key] {
		return
	}
	seen[key] = true
	at := f.at
	if at.file == "" && at.c == nil {
		at = cmdSite(c)
	}
	what := "NuGet source " + f.name + " → " + f.raw
	in.feedUse(at, c, f.url, f.raw, credential{User: f.user, Secret: f.pass}, write, "packages/nuget", what, in.nugetRequires(), out)
}

// feedUse classifies a package feed URL the job token is sent to with
// basic auth and reports the use (or why it will not work) at at. family
// is the package endpoint family the URL must be ("packages/nuget").
//
// pkgs (space-separated "format:name") are the packages the caller
// installs, kept on a group target for ResolvePublishers.
func (in *Input) feedUse(at site, c *shell.Command, url, raw string, cr credential, write bool, family, what, pkgs string, out *Output) {
	u, ok := ParseURL(url)
	note := func(k use.NoteKind, d string) { out.Notes = append(out.Notes, in.noteAtSite(at, k, d)) }
	if !ok {
		return
	}
	if !OnServer(in.Server, u.Host) {
		if UnknownReason(u.Host) == "" {
			note(use.OtherHost, "the job token is sent to "+u.Host+", which is not this GitLab server: "+what)
		}
		return
	}
	if ok, why := basicAuthVerdict(cr); !ok {
		if why != "" {
			note(use.WontWork, why+": "+what)
		}
		return
	}
	method := "GET"
	if write {
		method = "PUT"
	}
	ep, ok := ClassifyAPI(in.Server, u, method)
	if !ok || ep.Access == "" || !strings.HasPrefix(ep.Family, family) {
		return
	}
	if write && ep.Target.Kind == use.Group {
		note(use.WontWork, "GitLab publishes "+strings.TrimPrefix(family, "packages/")+" packages only to a project endpoint, not a group's: "+what)
		return
	}
	t := ep.Target
	if t.Reason != "" {
		t.Reference = raw
	}
	if t.Kind == use.Group {
		t.Packages = pkgs
	}
	k := access.PackagesRead
	if write {
		k = access.PackagesWrite
	}
	out.Uses = append(out.Uses, in.useAtSite(at, k, t, what+" (user "+redactUser(cr.User)+") via "+CommandText(c)))
}

// maxNugetProjects bounds the project files read for package references.
const maxNugetProjects = 50

// nugetRequires lists the packages the caller's project files reference
// (see requiredPackages), space-separated.
func (in *Input) nugetRequires() string {
	if in.Files == nil || in.Caller == nil {
		return ""
	}
	seen := map[string]bool{}
	var out []string
	for _, pat := range []string{"*.csproj", "*.fsproj", "Directory.Packages.props", "**/*.csproj", "**/*.fsproj", "**/Directory.Packages.props"} {
		names, _ := in.Files.Glob(in.Caller.Path, pat)
		if len(names) > maxNugetProjects {
			names = names[:maxNugetProjects]
		}
		for _, n := range names {
			text, ok := in.readRepo(n)
			if !ok {
				continue
			}
			for _, p := range requiredPackages("nuget", text) {
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
