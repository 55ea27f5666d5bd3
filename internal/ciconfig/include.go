package ciconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// include: after GitLab's External::Processor and Mapper
// (lib/gitlab/ci/config/external/; https://docs.gitlab.com/ci/yaml/includes/): every included file is loaded on its own
// (anchors do not cross files, inputs are interpolated per include entry),
// its own includes are merged below it, and the including file is merged
// last so that it wins; later includes win over earlier ones.

type incKind uint8

const (
	incRoot incKind = iota
	incLocal
	incProject
	incComponent
)

// fileCtx is a file to load and how it was reached.
type fileCtx struct {
	project, file, ref string
	kind               incKind
	inputs             *node
	comp               *componentCtx
	via                loc.Pos // the include entry (the root: the file itself)
}

func (f *fileCtx) src() *source { return &source{project: f.project, file: f.file} }

// id identifies the file and its inputs, for cycle detection.
func (f *fileCtx) id() string {
	s := f.project + "\x00" + f.file
	if f.inputs != nil {
		s += "\x00" + fingerprint(f.inputs)
	}
	if f.comp != nil {
		s += "\x00" + f.comp.name + "@" + f.comp.version
	}
	return s
}

func (f *fileCtx) label(rootProject string) string {
	if f.project == rootProject {
		return f.file
	}
	return f.project + ":" + f.file
}

// loadTree returns the file's configuration with its includes merged below
// it, or nil when the file cannot be used.
func (l *loader) loadTree(fc *fileCtx, chain []*fileCtx) *node {
	content := l.fetch(fc)
	if content == nil {
		return nil
	}
	if !content.isMap() {
		what := map[kind]string{kScalar: "a string", kSeq: "a list", kRef: "a !reference", kNull: "empty"}[content.kind]
		l.errorAt(loc.Pos{Project: fc.project, File: fc.file, Line: int(content.line)},
			"the file must be a mapping of keywords and job names",
			"invalid configuration format: the document is %s, not a mapping", what)
		return nil
	}
	chain = append(chain, fc)
	var merged merger
	if inc, ok := content.lookup("include"); ok {
		for _, child := range l.includeEntries(inc.val, fc) {
			if l.stopIncludes {
				break
			}
			if !l.countInclude(child) {
				break
			}
			if cyc := cycleIn(chain, child); cyc != "" {
				l.errorAt(child.via, "remove the include that closes the loop",
					"include cycle: %s", cyc)
				continue
			}
			if len(chain) > l.lim.MaxIncludeDepth {
				l.errorAt(child.via, "flatten the include hierarchy; "+limits.FixedNote(limits.IncludeDepth),
					"includes are nested more than %d levels deep", l.lim.MaxIncludeDepth)
				continue
			}
			if sub := l.loadTree(child, chain); sub != nil {
				merged.add(sub)
			}
		}
	}
	own := content.without("include")
	merged.add(own)
	return merged.result()
}

// countInclude applies GitLab's limit on included files (Mapper::Verifier).
func (l *loader) countInclude(child *fileCtx) bool {
	if l.stopIncludes {
		return false
	}
	if l.includes >= l.lim.MaxIncludes {
		l.stopIncludes = true
		l.errorAt(child.via, "GitLab counts every included file, nested ones and repeats too; include fewer files, or, where the instance allows more (ci_max_includes), "+limits.Raise(limits.Includes, int64(l.lim.MaxIncludes)),
			"Maximum of %d nested includes are allowed!", l.lim.MaxIncludes)
		return false
	}
	l.includes++
	return true
}

func cycleIn(chain []*fileCtx, child *fileCtx) string {
	id := child.id()
	for i, c := range chain {
		if c.id() == id {
			var names []string
			for _, d := range chain[i:] {
				names = append(names, d.label(chain[0].project))
			}
			names = append(names, child.label(chain[0].project))
			return strings.Join(names, " → ")
		}
	}
	return ""
}

// fetch reads, parses and interpolates one file (through the cache for
// files of other projects).
func (l *loader) fetch(fc *fileCtx) *node {
	rf := l.read(fc)
	if rf.err != nil {
		l.readError(fc, rf.err)
		return nil
	}
	l.bytes += rf.size
	if l.bytes > l.lim.MaxTotalBytes {
		l.stopIncludes = true
		l.errorAt(loc.Pos{Project: fc.project, File: fc.file}, "GitLab limits the combined size of the configuration and its includes; include less, or "+limits.Raise(limits.ConfigBytes, l.lim.MaxTotalBytes),
			"Total size of combined CI/CD configuration is too big (more than %d bytes)", l.lim.MaxTotalBytes)
		return nil
	}
	l.diags = append(l.diags, rf.p.diags...)
	if rf.p.failed {
		return nil
	}
	content, errs := l.interpolated(fc, rf)
	if len(errs) > 0 {
		detail := "give the inputs the file's spec:inputs asks for in include:inputs"
		switch {
		case strings.HasPrefix(errs[0], msgInterpTooLarge):
			detail = "use long inputs fewer times, or shorten them"
		case fc.kind == incRoot:
			detail = "give the inputs a default in spec:inputs or pass them when the pipeline runs"
		}
		l.errorAt(fc.via, detail, "%s: %s", fc.label(l.project), strings.Join(errs, ", "))
		return nil
	}
	if content == nil {
		if fc.kind == incRoot {
			l.warnAt(fc.via, "the project runs no pipelines from it", "the CI configuration %s is empty", fc.file)
		} else {
			l.errorAt(fc.via, "remove the include or give the file content", "Included file `%s` is empty or does not exist!", fc.file)
		}
		return nil
	}
	return content
}

// readFile is a file read and parsed.
type readFile struct {
	p    *parsed
	size int64
	err  error
}

func (l *loader) shared(fc *fileCtx) bool {
	return l.opts.Cache != nil && fc.project != l.project
}

func (l *loader) read(fc *fileCtx) *readFile {
	do := func() *readFile {
		data, err := l.opts.Files.ReadFile(fc.project, fc.file)
		if err != nil {
			return &readFile{err: err}
		}
		if int64(len(data)) > l.lim.MaxTotalBytes {
			// Over the limit on its own: not worth parsing.
			return &readFile{size: int64(len(data))}
		}
		return &readFile{p: parseFile(fc.src(), data, l.lim), size: int64(len(data))}
	}
	if !l.shared(fc) {
		return do()
	}
	e := l.opts.Cache.parseEntry(parseKey{fc.project, fc.file, l.lim.MaxNodes, l.lim.MaxDepth, l.lim.MaxTotalBytes})
	e.once.Do(func() { e.f = do() })
	return e.f
}

func (l *loader) interpolated(fc *fileCtx, rf *readFile) (*node, []string) {
	do := func() (*node, bool, []string) {
		return interpolate(rf.p, fc.inputs, fc.comp, l.opts.Vars, l.lim.MaxInterpolatedBytes)
	}
	if !l.shared(fc) || rf.p.header == nil {
		c, _, errs := do()
		return c, errs
	}
	k := interpKey{project: fc.project, file: fc.file, maxNodes: l.lim.MaxNodes, maxDepth: l.lim.MaxDepth, maxBytes: l.lim.MaxInterpolatedBytes}
	if fc.inputs != nil {
		k.inputs = fingerprint(fc.inputs)
	}
	if fc.comp != nil {
		k.comp = fc.comp.name + "\x00" + fc.comp.version + "\x00" + fc.comp.reference
	}
	e := l.opts.Cache.interpEntry(k)
	e.once.Do(func() { e.content, e.vars, e.errs = do() })
	if e.vars {
		// The file used expand_vars: its content depends on this project.
		c, _, errs := do()
		return c, errs
	}
	return e.content, e.errs
}

func (l *loader) readError(fc *fileCtx, err error) {
	at := fc.via
	switch {
	case errors.Is(err, fs.ErrNotExist):
		switch fc.kind {
		case incRoot:
			// A project without CI configuration is normal; the caller
			// decides whether that is a problem (Config.Missing).
			l.rootMissing = true
		case incLocal:
			l.errorAt(at, "fix the path (it is relative to the repository root) or add the file",
				"Local file `%s` does not exist!", fc.file)
		default:
			l.errorAt(at, "fix the path or the project in the include",
				"Project `%s` file `%s` does not exist!", fc.project, fc.file)
		}
	case errors.Is(err, inventory.ErrTooLarge):
		l.errorAt(at, "GitLab rejects configuration files this large too",
			"%s is too large to be a CI configuration file: %v", fc.label(l.project), err)
	case errors.Is(err, inventory.ErrNotRegular):
		l.errorAt(at, "make it a regular file inside the repository", "%v", err)
	case errors.Is(err, inventory.ErrNoProject):
		l.note(NotFetched, at, "", "%s is in project %s, which is not in the snapshot; add the project to the snapshot to analyse the jobs it defines", fc.file, fc.project)
	default:
		l.errorAt(at, "check that the snapshot is readable", "cannot read %s: %v", fc.label(l.project), err)
	}
}

// includeEntries normalizes an include: value into the files it names,
// expanding wildcards and noting what cannot be read offline.
func (l *loader) includeEntries(inc *node, parent *fileCtx) []*fileCtx {
	var items []*node
	switch {
	case inc.isNull():
		return nil
	case inc.kind == kSeq:
		items = inc.items
	default:
		items = []*node{inc}
	}
	var out []*fileCtx
	for _, it := range items {
		out = append(out, l.includeEntry(it, parent)...)
	}
	return out
}

func (l *loader) includeEntry(it *node, parent *fileCtx) []*fileCtx {
	at := it.pos()
	switch {
	case it.kind == kScalar:
		local, ok := l.expandInclude(it.str, at, "include")
		if !ok {
			return nil
		}
		if isURL(local) {
			l.note(NotFetched, at, "", "include:remote %s is not fetched offline; the jobs it defines are not analysed", local)
			l.countInclude(&fileCtx{via: at})
			return nil
		}
		return l.localFiles(local, nil, parent, at)
	case it.kind != kMap:
		l.errorAt(at, "each include entry is a path, a URL or a mapping such as {local: path}",
			"include entry is not valid: it must be a string or a mapping")
		return nil
	}
	var accessors []string
	for _, k := range []string{"local", "project", "remote", "template", "component", "artifact"} {
		if _, ok := it.lookup(k); ok {
			accessors = append(accessors, k)
		}
	}
	if _, hasFile := it.lookup("file"); hasFile && !containsStr(accessors, "project") {
		l.errorAt(at, "add project: with the path of the project that holds the file", "include:file needs include:project")
		return nil
	}
	if len(accessors) != 1 {
		l.errorAt(at, "use exactly one of local, project (with file), remote, template or component",
			"include entry needs to match exactly one accessor (found %d)", len(accessors))
		return nil
	}
	inputs := it.get("inputs")
	if inputs != nil && !inputs.isMap() && !inputs.isNull() {
		l.errorAt(inputs.pos(), "give inputs as a mapping of input names to values", "include:inputs must be a mapping")
		return nil
	}
	if inputs.isNull() {
		inputs = nil
	}
	switch a := accessors[0]; a {
	case "local":
		v := it.get("local")
		if !v.isString() {
			l.errorAt(at, "give the path of a file in this repository", "include:local must be a string")
			return nil
		}
		local, ok := l.expandInclude(v.str, v.pos(), "include:local")
		if !ok {
			return nil
		}
		return l.localFiles(local, inputs, parent, at)
	case "project":
		return l.projectFiles(it, inputs, at)
	case "component":
		return l.componentFile(it, inputs, at)
	case "remote":
		l.note(NotFetched, at, "", "include:remote %s is not fetched offline; the jobs it defines are not analysed", it.get(a).str)
		l.unseen = append(l.unseen, "include:remote "+it.get(a).str)
	case "template":
		l.note(NotFetched, at, "", "include:template %s is a GitLab template tokenscope does not ship; the jobs it defines are not analysed", it.get(a).str)
		l.unseen = append(l.unseen, "include:template "+it.get(a).str)
	case "artifact":
		l.note(NotFetched, at, "", "include:artifact %s is generated while the pipeline runs; its jobs are not analysed", it.get(a).str)
	}
	// remote/template/artifact still count as included files in GitLab.
	l.countInclude(&fileCtx{via: at})
	return nil
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// expandInclude expands the variables GitLab allows in include values
// (Options.Vars: project and predefined variables). A reference to any
// other variable cannot be resolved offline: the include is noted and
// skipped.
func (l *loader) expandInclude(s string, at loc.Pos, what string) (string, bool) {
	out, unknown := expandVars(s, l.opts.Vars)
	if len(unknown) > 0 {
		l.note(NotFetched, at, "", "%s %q uses variables tokenscope cannot see (%s: project, group or pipeline variables); the file is not analysed", what, s, strings.Join(unknown, ", "))
		return "", false
	}
	return out, true
}

func cleanPath(p string) string {
	p = path.Clean("/" + strings.TrimSpace(p))
	return strings.TrimPrefix(p, "/")
}

func hasYAMLExt(p string) bool {
	return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")
}

// localFiles resolves include:local in the project of the including file
// (so a local include inside a file from another project reads that
// project), expanding * and ** wildcards.
func (l *loader) localFiles(local string, inputs *node, parent *fileCtx, at loc.Pos) []*fileCtx {
	local = cleanPath(local)
	files := []string{local}
	if strings.Contains(local, "*") {
		m, err := l.opts.Files.Glob(parent.project, local)
		if err != nil {
			if errors.Is(err, inventory.ErrNoProject) {
				l.note(NotFetched, at, "", "include:local %s is in project %s, which is not in the snapshot", local, parent.project)
				return nil
			}
			l.errorAt(at, "fix the wildcard pattern", "include:local %s: %v", local, err)
			return nil
		}
		if len(m) == 0 {
			l.warnAt(at, "check the pattern: * stays in one folder, ** crosses folders", "include:local %s matches no file", local)
		}
		files = m
	}
	var out []*fileCtx
	for _, f := range files {
		if !hasYAMLExt(f) {
			l.errorAt(at, "include only .yml or .yaml files", "Included file `%s` does not have YAML extension!", f)
			continue
		}
		out = append(out, &fileCtx{project: parent.project, file: f, ref: parent.ref, kind: incLocal,
			inputs: inputs, via: at})
	}
	return out
}

// projectFiles resolves include:project with file as a string or a list.
func (l *loader) projectFiles(it, inputs *node, at loc.Pos) []*fileCtx {
	pv := it.get("project")
	if !pv.isString() {
		l.errorAt(at, "give the full path of the project", "include:project must be a string")
		return nil
	}
	project, ok := l.expandInclude(pv.str, pv.pos(), "include:project")
	if !ok {
		return nil
	}
	project = strings.Trim(project, "/")
	var ref string
	if r := it.get("ref"); r != nil && r.kind == kScalar {
		if ref, ok = l.expandInclude(r.str, r.pos(), "include:ref"); !ok {
			return nil
		}
	}
	fv := it.get("file")
	var files []*node
	switch {
	case fv.isString():
		files = []*node{fv}
	case fv.isSeq():
		files = fv.items
	default:
		l.errorAt(at, "add file: with the path (or list of paths) of the file in that project",
			"include:project %s needs file: as a string or a list of strings", project)
		return nil
	}
	l.note(PipelineUser, at, "", "include:project %s is resolved with the pipeline user's permissions, not the job token", project)
	if !l.opts.Files.HasFiles(project) {
		l.note(NotFetched, at, "", "include:project %s (%s) is not in the snapshot; add the project to the snapshot to analyse the jobs it defines", project, joinFiles(files))
		for range files {
			if !l.countInclude(&fileCtx{via: at}) {
				break
			}
		}
		return nil
	}
	var out []*fileCtx
	for _, f := range files {
		if !f.isString() {
			l.errorAt(f.pos(), "list file paths as strings", "include:project %s: file entries must be strings", project)
			continue
		}
		name, ok := l.expandInclude(f.str, f.pos(), "include:file")
		if !ok {
			continue
		}
		name = cleanPath(name)
		if !hasYAMLExt(name) {
			l.errorAt(f.pos(), "include only .yml or .yaml files", "Included file `%s` does not have YAML extension!", name)
			continue
		}
		out = append(out, &fileCtx{project: project, file: name, ref: ref, kind: incProject, inputs: inputs, via: at})
	}
	return out
}

func joinFiles(files []*node) string {
	var names []string
	for _, f := range files {
		if f.kind == kScalar {
			names = append(names, f.str)
		}
	}
	return strings.Join(names, ", ")
}

// componentFile resolves include:component
// <fqdn>/<project path>/<name>@<version> to templates/<name>.yml or
// templates/<name>/template.yml in that project (docs: components).
func (l *loader) componentFile(it, inputs *node, at loc.Pos) []*fileCtx {
	cv := it.get("component")
	if !cv.isString() {
		l.errorAt(at, "write the component as <fqdn>/<project path>/<name>@<version>", "include:component must be a string")
		return nil
	}
	// A component project tests its own components at the commit under
	// test, @$CI_COMMIT_SHA (https://docs.gitlab.com/ci/components/#test-the-component).
	// The value is unknown offline, but the files are the snapshot's of
	// this same project; any other project at this commit stays unread.
	raw, atSHA := cv.str, false
	if s, v, ok := cutLast(raw, "@"); ok && (v == "$CI_COMMIT_SHA" || v == "${CI_COMMIT_SHA}") {
		raw, atSHA = s, true
	}
	addr, ok := l.expandInclude(raw, cv.pos(), "include:component")
	if !ok {
		return nil
	}
	if atSHA {
		addr += "@" + strings.TrimPrefix(cv.str, raw+"@")
	}
	spec, version, hasVersion := cutLast(addr, "@")
	host, rest, _ := strings.Cut(spec, "/")
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if !hasVersion || version == "" || len(segs) < 2 || host == "" {
		l.errorAt(cv.pos(), "write the component as <fqdn>/<project path>/<name>@<version>",
			"include:component %q is not a valid component address", addr)
		return nil
	}
	l.note(PipelineUser, at, "", "include:component %s is resolved with the pipeline user's permissions, not the job token", addr)
	if !l.sameInstance(host) {
		l.note(NotFetched, at, "", "include:component %s is on %s, not on this GitLab instance; GitLab only includes components from its own instance", addr, host)
		l.countInclude(&fileCtx{via: at})
		return nil
	}
	// The project is the longest prefix that is a project; the rest names
	// the component (Components::InstancePath).
	project, name := strings.Join(segs[:len(segs)-1], "/"), segs[len(segs)-1]
	for i := len(segs) - 1; i >= 1; i-- {
		p := strings.Join(segs[:i], "/")
		if l.opts.Files.HasFiles(p) {
			project, name = p, strings.Join(segs[i:], "/")
			break
		}
	}
	if atSHA && project != l.opts.Vars["CI_PROJECT_PATH"] {
		l.note(NotFetched, at, "", "include:component %s: $CI_COMMIT_SHA is a commit of this project, not of %s; the file is not analysed", addr, project)
		l.countInclude(&fileCtx{via: at})
		return nil
	}
	comp := &componentCtx{name: name, version: version, reference: version}
	if !l.opts.Files.HasFiles(project) {
		l.note(NotFetched, at, "", "include:component %s: project %s is not in the snapshot; add it to analyse the component's jobs", addr, project)
		l.countInclude(&fileCtx{via: at})
		return nil
	}
	candidates := []string{"templates/" + name + ".yml", "templates/" + name + "/template.yml"}
	for _, f := range candidates {
		if _, err := l.opts.Files.ReadFile(project, f); err == nil {
			return []*fileCtx{{project: project, file: f, ref: version, kind: incComponent, inputs: inputs, comp: comp, via: at}}
		}
	}
	l.errorAt(cv.pos(), "check the component name and the project's templates/ folder",
		"include:component %s: project %s has neither %s nor %s", addr, project, candidates[0], candidates[1])
	return nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func (l *loader) sameInstance(host string) bool {
	host = strings.ToLower(host)
	for _, v := range []string{"CI_SERVER_FQDN", "CI_SERVER_HOST"} {
		if h := strings.ToLower(l.opts.Vars[v]); h != "" && h == host {
			return true
		}
	}
	return false
}

// fingerprint renders a node canonically (types, values, and positions of
// lists and mappings, which interpolation may carry into the result).
func fingerprint(n *node) string {
	var b strings.Builder
	var walk func(n *node)
	walk = func(n *node) {
		if b.Len() > 1<<16 {
			return
		}
		switch {
		case n == nil || n.kind == kNull:
			b.WriteString("~")
		case n.kind == kScalar:
			fmt.Fprintf(&b, "%d%q", n.typ, n.str)
		case n.kind == kMap:
			fmt.Fprintf(&b, "{%v:%d:%d", n.pos(), n.line, len(n.pairs))
			for _, p := range n.pairs {
				fmt.Fprintf(&b, "%q:", p.key)
				walk(p.val)
			}
			b.WriteString("}")
		default:
			fmt.Fprintf(&b, "[%v:%d:%d", n.pos(), n.line, n.kind)
			for _, it := range n.items {
				walk(it)
				b.WriteString(",")
			}
			b.WriteString("]")
		}
	}
	walk(n)
	return b.String()
}
