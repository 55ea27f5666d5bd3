package trust

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// MaxFileSize bounds what LoadFile reads: a reviewed intent for the
// largest org is far below it.
const MaxFileSize = 8 << 20

// LoadOptions tune Load.
type LoadOptions struct {
	// Index, when set, is the org the file must match: every project and
	// group must exist in it, and paths take its spelling.
	Index *inventory.Index
	// Now, when set, marks approvals whose expiry date has passed as
	// expired.
	Now time.Time
}

// LoadFile reads and validates the file at path. The error is for a file
// that cannot be read; problems in its content are diagnostics.
func LoadFile(path string, opts LoadOptions) (*File, diag.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read trust file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read trust file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("read trust file %s: larger than %d MB; this is not a trust.yaml", path, MaxFileSize>>20)
	}
	tf, diags := Load(path, data, opts)
	return tf, diags, nil
}

// Load parses and validates a trust file. It reports every mistake as a
// diagnostic with its line (errors: the file must not be used; warnings:
// expired approvals, placeholders left from the draft, conflicts that deny
// resolves). The File is returned even with errors, for tools that want to
// show more.
//
// Expiry is a warning, not an error: a date passing must not stop a
// scheduled plan or audit. An expired approval simply stops counting, so
// the edge shows up as needing review again.
func Load(name string, data []byte, opts LoadOptions) (*File, diag.List) {
	l := &loader{name: name, opts: opts, f: &File{Name: name}, edgeLines: map[[2]string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.errAt(yamlErrorLine(err), "%s", strings.TrimPrefix(yamlErrorText(err), "yaml: "))
		return l.f, l.diags
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.errAt(1, "empty file; a trust file starts with \"version: %d\"", Version)
		return l.f, l.diags
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.errAt(root.Line, "the file must be a mapping with version, edges, groups, deny, open and waves")
		return l.f, l.diags
	}
	l.top(root)
	l.crossCheck()
	return l.f, l.diags.Sort()
}

type loader struct {
	name  string
	opts  LoadOptions
	f     *File
	diags diag.List
	// edgeLines finds duplicates while loading: the File's own index is
	// built once, on first use after loading.
	edgeLines map[[2]string]int
	sc        *scope // built on the first name the inventory lacks
}

func (l *loader) errAt(line int, format string, args ...any) {
	l.diags.Errorf("", l.name, line, format, args...)
}

func (l *loader) warnAt(line int, format string, args ...any) {
	l.diags.Warnf("", l.name, line, format, args...)
}

// pairs returns the key/value pairs of a mapping, reporting keys not in
// allowed.
func (l *loader) pairs(n *yaml.Node, what string, allowed ...string) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			l.errAt(k.Line, "unknown field %q in %s (valid: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

func (l *loader) top(root *yaml.Node) {
	sawVersion := false
	for _, kv := range l.pairs(root, "the file", "version", "edges", "groups", "deny", "open", "waves", "acknowledged") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "version":
			sawVersion = true
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n != Version {
				l.errAt(v.Line, "version %q is not supported (this tokenscope reads version %d)", v.Value, Version)
			}
		case "edges":
			l.list(v, "edges", l.edge)
		case "groups":
			l.list(v, "groups", l.group)
		case "deny":
			l.list(v, "deny", l.deny)
		case "open":
			l.list(v, "open", l.open)
		case "waves":
			l.list(v, "waves", l.wave)
		case "acknowledged":
			l.list(v, "acknowledged", l.acknowledged)
		}
	}
	if !sawVersion {
		l.errAt(root.Line, "missing \"version: %d\"", Version)
	}
}

func (l *loader) list(n *yaml.Node, what string, item func(*yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errAt(n.Line, "%s must be a list", what)
		return
	}
	for _, it := range n.Content {
		if it.Kind != yaml.MappingNode {
			l.errAt(it.Line, "each item of %s must be a mapping", what)
			continue
		}
		item(it)
	}
}

func (l *loader) edge(n *yaml.Node) {
	e := Edge{Line: n.Line}
	var t terms
	for _, kv := range l.pairs(n, "an edge", "caller", "callee", "access", "reason", "owner", "expires", "unreviewed") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "caller":
			e.Caller = l.str(v, "caller")
		case "callee":
			e.Callee = l.str(v, "callee")
		default:
			l.term(&t, k.Value, v)
		}
	}
	e.Access, e.Reason, e.Owner, e.Expires, e.Unreviewed = t.access, t.reason, t.owner, t.expires, t.unreviewed
	if !l.required(n, "edge", map[string]string{"caller": e.Caller, "callee": e.Callee}) {
		return
	}
	what := "edge " + e.Caller + " → " + e.Callee
	var callerOut, calleeOut string
	e.Caller, callerOut = l.approved(e.Caller, n.Line, "caller")
	e.Callee, calleeOut = l.approved(e.Callee, n.Line, "callee")
	if l.outsideCallee(n.Line, what, e.Callee, calleeOut, e.Unreviewed) {
		return
	}
	l.outsideCaller(n.Line, what, "caller "+e.Caller, callerOut)
	if samePath(e.Caller, e.Callee) {
		l.errAt(n.Line, "caller and callee are both %s: a project's own jobs never need an allowlist entry", e.Callee)
		return
	}
	k := [2]string{strings.ToLower(e.Caller), strings.ToLower(e.Callee)}
	if prev, ok := l.edgeLines[k]; ok {
		l.errAt(n.Line, "duplicate edge %s → %s (first at line %d); merge them", e.Caller, e.Callee, prev)
		return
	}
	l.edgeLines[k] = n.Line
	l.reasonOwner(n.Line, e.Reason, e.Owner, e.Caller+" → "+e.Callee)
	if len(e.Access) == 0 {
		l.warnAt(n.Line, "edge %s → %s names no access kinds: its entry gets default permissions; name the kinds to narrow it", e.Caller, e.Callee)
	}
	e.Expired = l.expired(n.Line, e.Expires, e.Caller+" → "+e.Callee)
	l.f.Edges = append(l.f.Edges, e)
}

// terms are what an edge and a group grant approve on the same terms:
// access kinds, reason, owner, expiry.
type terms struct {
	access        []access.Kind
	reason, owner string
	expires       time.Time
	unreviewed    bool
}

// term reads one of the shared fields.
func (l *loader) term(t *terms, key string, v *yaml.Node) {
	switch key {
	case "access":
		t.access = l.kinds(v)
	case "reason":
		t.reason = l.str(v, "reason")
	case "owner":
		t.owner = l.str(v, "owner")
	case "expires":
		t.expires = l.date(v)
	case "unreviewed":
		// Only true marks a draft; false is the same as no marker, so a
		// reviewer may flip it instead of deleting the line.
		if err := v.Decode(&t.unreviewed); err != nil {
			l.errAt(v.Line, "unreviewed must be true or false, not %q", v.Value)
		}
	}
}

func (l *loader) group(n *yaml.Node) {
	g := GroupGrant{Line: n.Line}
	var t terms
	for _, kv := range l.pairs(n, "a group grant", "callee", "caller_group", "access", "reason", "owner", "expires", "unreviewed") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "callee":
			g.Callee = l.str(v, "callee")
		case "caller_group":
			g.CallerGroup = l.str(v, "caller_group")
		default:
			l.term(&t, k.Value, v)
		}
	}
	g.Access, g.Reason, g.Owner, g.Expires, g.Unreviewed = t.access, t.reason, t.owner, t.expires, t.unreviewed
	if !l.required(n, "group grant", map[string]string{"callee": g.Callee, "caller_group": g.CallerGroup}) {
		return
	}
	what := "group grant " + g.CallerGroup + " → " + g.Callee
	var calleeOut, groupOut string
	g.Callee, calleeOut = l.approved(g.Callee, n.Line, "callee")
	g.CallerGroup, groupOut = l.groupPath(g.CallerGroup, n.Line, "caller_group")
	if l.outsideCallee(n.Line, what, g.Callee, calleeOut, g.Unreviewed) {
		return
	}
	l.outsideCaller(n.Line, what, "caller_group "+g.CallerGroup, groupOut)
	for _, prev := range l.f.Groups {
		if samePath(prev.Callee, g.Callee) && samePath(prev.CallerGroup, g.CallerGroup) {
			l.errAt(n.Line, "duplicate group grant %s → %s (first at line %d); merge them", g.CallerGroup, g.Callee, prev.Line)
			return
		}
	}
	l.reasonOwner(n.Line, g.Reason, g.Owner, "group "+g.CallerGroup+" → "+g.Callee)
	g.Expired = l.expired(n.Line, g.Expires, "group "+g.CallerGroup+" → "+g.Callee)
	l.f.Groups = append(l.f.Groups, g)
}

// open reads a lock-down exception: the same reason, owner and expiry
// terms as an approval, for one project.
func (l *loader) open(n *yaml.Node) {
	o := Open{Line: n.Line}
	var t terms
	for _, kv := range l.pairs(n, "an open exception", "project", "reason", "owner", "expires") {
		k, v := kv[0], kv[1]
		if k.Value == "project" {
			o.Project = l.str(v, "project")
			continue
		}
		l.term(&t, k.Value, v)
	}
	o.Reason, o.Owner, o.Expires = t.reason, t.owner, t.expires
	if !l.required(n, "open exception", map[string]string{"project": o.Project, "owner": o.Owner}) {
		return
	}
	var out string
	o.Project, out = l.approved(o.Project, n.Line, "project")
	if out != "" {
		l.warnAt(n.Line, "open %s is not planned: %s is outside the scope: %s", o.Project, o.Project, out)
		l.f.Outside = append(l.f.Outside, Outside{Line: n.Line, What: "open " + o.Project, Why: out})
		return
	}
	for _, prev := range l.f.Open {
		if samePath(prev.Project, o.Project) {
			l.errAt(n.Line, "duplicate open exception for %s (first at line %d); merge them", o.Project, prev.Line)
			return
		}
	}
	l.reasonOwner(n.Line, o.Reason, o.Owner, "open "+o.Project)
	o.Expired = l.expired(n.Line, o.Expires, "open "+o.Project)
	l.f.Open = append(l.f.Open, o)
}

func (l *loader) deny(n *yaml.Node) {
	d := Deny{Line: n.Line}
	for _, kv := range l.pairs(n, "a deny rule", "callee", "except", "callers", "reason") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "callee":
			d.Callee = l.str(v, "callee")
		case "except":
			d.Except = l.strs(v, "except")
		case "callers":
			d.Callers = l.strs(v, "callers")
		case "reason":
			d.Reason = l.str(v, "reason")
		}
	}
	if !l.required(n, "deny rule", map[string]string{"callee": d.Callee}) {
		return
	}
	d.Callee = l.denied(d.Callee, n.Line, "callee", "deny rule for "+d.Callee)
	if len(d.Except) > 0 && len(d.Callers) > 0 {
		l.errAt(n.Line, "deny rule for %s: give either except (deny everyone else) or callers (deny these), not both", d.Callee)
		return
	}
	for i, p := range d.Except {
		d.Except[i] = l.denied(p, n.Line, "except", "deny rule for "+d.Callee)
	}
	for i, p := range d.Callers {
		if l.opts.Index != nil {
			if gr, ok := l.opts.Index.Group(p); ok {
				d.Callers[i] = gr.Path
				continue
			}
		}
		d.Callers[i] = l.denied(p, n.Line, "callers", "deny rule for "+d.Callee)
	}
	l.f.Deny = append(l.f.Deny, d)
}

func (l *loader) wave(n *yaml.Node) {
	w := Wave{Line: n.Line}
	for _, kv := range l.pairs(n, "a wave", "name", "projects", "groups", "all") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
			w.Name = l.str(v, "name")
		case "projects":
			w.Projects = l.strs(v, "projects")
		case "groups":
			w.Groups = l.strs(v, "groups")
		case "all":
			if err := v.Decode(&w.All); err != nil {
				l.errAt(v.Line, "all must be true or false, not %q", v.Value)
			}
		}
	}
	if !l.required(n, "wave", map[string]string{"name": w.Name}) {
		return
	}
	for _, prev := range l.f.Waves {
		if prev.Name == w.Name {
			l.errAt(n.Line, "duplicate wave %q (first at line %d)", w.Name, prev.Line)
			return
		}
		if prev.All {
			l.warnAt(n.Line, "wave %q comes after wave %q (line %d), which takes every project: it gets none", w.Name, prev.Name, prev.Line)
		}
	}
	switch {
	case w.All && (len(w.Projects) > 0 || len(w.Groups) > 0):
		l.errAt(n.Line, "wave %q: all: true takes every project; drop projects and groups", w.Name)
	case !w.All && len(w.Projects) == 0 && len(w.Groups) == 0:
		l.errAt(n.Line, "wave %q names no projects or groups (or all: true)", w.Name)
	}
	for i, p := range w.Projects {
		var out string
		if w.Projects[i], out = l.approved(p, n.Line, "projects"); out != "" {
			l.warnAt(n.Line, "wave %q: %s is outside the scope, so in no wave of this plan: %s", w.Name, w.Projects[i], out)
		}
		if prev, ok := WaveOf(l.f.Waves, w.Projects[i]); ok && !prev.All {
			l.warnAt(n.Line, "project %s is already in wave %q (line %d); the first wave wins", w.Projects[i], prev.Name, prev.Line)
		}
	}
	for i, g := range w.Groups {
		var out string
		if w.Groups[i], out = l.groupPath(g, n.Line, "groups"); out != "" {
			l.warnAt(n.Line, "wave %q: group %s is outside the scope, so in no wave of this plan: %s", w.Name, w.Groups[i], out)
		}
	}
	l.f.Waves = append(l.f.Waves, w)
}

// crossCheck reports approvals that deny rules override: deny wins, but a
// reviewer should know the file contradicts itself.
func (l *loader) crossCheck() {
	for _, e := range l.f.Edges {
		for _, d := range l.f.DenyRules(e.Callee) {
			if d.Denies(e.Caller) {
				l.warnAt(e.Line, "edge %s → %s is denied by the deny rule at line %d; deny wins, the edge is not approved", e.Caller, e.Callee, d.Line)
			}
		}
	}
	for _, g := range l.f.Groups {
		var members []string
		if ix := l.opts.Index; ix != nil {
			for _, p := range ix.ProjectsUnder(g.CallerGroup) {
				members = append(members, p.Path)
			}
		}
		for _, d := range l.f.DenyRules(g.Callee) {
			if d.DeniesGroup(g.CallerGroup, members) {
				l.warnAt(g.Line, "group grant %s → %s lets in a project the deny rule at line %d forbids; deny wins, the grant is not approved", g.CallerGroup, g.Callee, d.Line)
			}
		}
	}
}

func (l *loader) required(n *yaml.Node, what string, fields map[string]string) bool {
	ok := true
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if strings.TrimSpace(fields[k]) == "" {
			l.errAt(n.Line, "%s: %s is required", what, k)
			ok = false
		}
	}
	return ok
}

func (l *loader) reasonOwner(line int, reason, owner, what string) {
	switch {
	case strings.TrimSpace(reason) == "":
		l.errAt(line, "%s: reason is required: say why the access is needed (reviewers and auditors read it)", what)
	case strings.HasPrefix(reason, Placeholder):
		l.warnAt(line, "%s: reason is still the draft placeholder; write why the access is needed", what)
	}
	if strings.HasPrefix(owner, Placeholder) {
		l.warnAt(line, "%s: owner is still the draft placeholder; name who answers for it", what)
	}
}

func (l *loader) expired(line int, exp time.Time, what string) bool {
	if exp.IsZero() || l.opts.Now.IsZero() {
		return false
	}
	// An approval is valid through its expiry date (UTC).
	if !l.opts.Now.Before(exp.AddDate(0, 0, 1)) {
		l.warnAt(line, "%s: approval expired on %s and no longer counts; renew or delete it", what, exp.Format(time.DateOnly))
		return true
	}
	return false
}

func (l *loader) str(v *yaml.Node, field string) string {
	if isNull(v) {
		return ""
	}
	if v.Kind != yaml.ScalarNode {
		l.errAt(v.Line, "%s must be a single value", field)
		return ""
	}
	return strings.TrimSpace(v.Value)
}

func (l *loader) strs(v *yaml.Node, field string) []string {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		l.errAt(v.Line, "%s must be a list, such as [group/project]", field)
		return nil
	}
	var out []string
	for _, it := range v.Content {
		if s := l.str(it, field); s != "" {
			out = append(out, strings.Trim(s, "/"))
		}
	}
	return out
}

func (l *loader) kinds(v *yaml.Node) []access.Kind {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		l.errAt(v.Line, "access must be a list of access kinds, such as [packages-read]")
		return nil
	}
	var out []access.Kind
	for _, it := range v.Content {
		k, err := access.Parse(l.str(it, "access"))
		if err != nil {
			l.errAt(it.Line, "%v", err)
			continue
		}
		out = append(out, k)
	}
	return access.Sort(out)
}

func (l *loader) date(v *yaml.Node) time.Time {
	if isNull(v) {
		return time.Time{}
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v.Value); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
	}
	l.errAt(v.Line, "expires %q is not a date (want YYYY-MM-DD)", v.Value)
	return time.Time{}
}

// approved checks p, a project an approval, exception or wave names,
// against the inventory: its canonical path, and why it is outside the
// scope when it is (the caller reports that, since what it means depends
// on the entry). An unknown name is an error naming the nearest known
// projects: an approval of a typo must not pass as one of a project
// nobody read.
func (l *loader) approved(p string, line int, field string) (path, outside string) {
	p, found, outside := l.lookup(p, line, field)
	if !found && outside == "" && p != "" {
		l.errAt(line, "%s: unknown project %s (%s)", field, p, l.scope().unknown(p, l.scope().projects))
	}
	return p, outside
}

// denied checks p, a project a deny rule names. A deny rule only ever
// removes access, so a name the inventory lacks is a warning, never an
// error: the rule still applies by path.
func (l *loader) denied(p string, line int, field, what string) string {
	p, found, outside := l.lookup(p, line, field)
	switch {
	case found || p == "":
	case outside != "" && field == "callee":
		l.warnAt(line, "%s: callee %s is outside the scope (%s); the rule has no allowlist to apply to in this plan", what, p, outside)
	case outside != "":
		l.warnAt(line, "%s: %s %s is outside the scope (%s); the rule still applies to it by path", what, field, p, outside)
	default:
		l.warnAt(line, "%s: %s: unknown project %s (%s); the rule applies to that path only", what, field, p, l.scope().unknown(p, l.scope().projects))
	}
	return p
}

// lookup finds project p in the inventory: its canonical path, whether
// it is there (also set when lookup reported the mistake itself: a group
// given for a project), and when it is not, why it is outside the scope
// ("" for an unknown name). Without an inventory every name is taken as
// given.
func (l *loader) lookup(p string, line int, field string) (path string, found bool, outside string) {
	p = strings.Trim(p, "/")
	ix := l.opts.Index
	if ix == nil || p == "" {
		return p, true, ""
	}
	if pr := ix.Project(p); pr != nil {
		return pr.Path, true, ""
	}
	if _, ok := ix.Group(p); ok {
		l.errAt(line, "%s: %s is a group, not a project", field, p)
		return p, true, ""
	}
	return p, false, l.scope().outside(p, l.scope().projects)
}

// groupPath checks group g against the inventory, as approved does for
// projects.
func (l *loader) groupPath(g string, line int, field string) (path, outside string) {
	g = strings.Trim(g, "/")
	ix := l.opts.Index
	if ix == nil || g == "" {
		return g, ""
	}
	if gr, ok := ix.Group(g); ok {
		return gr.Path, ""
	}
	if ix.Project(g) != nil {
		l.errAt(line, "%s: %s is a project, not a group (approve a project in edges:)", field, g)
		return g, ""
	}
	sc := l.scope()
	if out := sc.outside(g, sc.groups); out != "" {
		return g, out
	}
	l.errAt(line, "%s: unknown group %s (%s)", field, g, sc.unknown(g, sc.groups))
	return g, ""
}

// outsideCallee reports an approval whose callee is outside the scope:
// its allowlist was not read, so the plan cannot say anything about it.
// It returns whether the entry is left out.
func (l *loader) outsideCallee(line int, what, callee, outside string, unreviewed bool) bool {
	if outside == "" {
		return false
	}
	l.warnAt(line, "%s is not planned: the callee %s is outside the scope: %s", what, callee, outside)
	l.f.Outside = append(l.f.Outside, Outside{Line: line, What: what, Why: outside, Unreviewed: unreviewed})
	return true
}

// outsideCaller reports an approval whose caller is outside the scope: it
// is planned by path (GitLab's GraphQL mutations take paths), which the
// reviewer should know.
func (l *loader) outsideCaller(line int, what, caller, outside string) {
	if outside != "" {
		l.warnAt(line, "%s: the %s is outside the scope (%s); its entry is planned by path", what, caller, outside)
	}
}

func (l *loader) scope() *scope {
	if l.sc == nil {
		l.sc = newScope(l.opts.Index)
	}
	return l.sc
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

var (
	yamlLine       = regexp.MustCompile(`line (\d+)`)
	yamlLinePrefix = regexp.MustCompile(`line \d+: `)
)

// yamlErrorLine digs the line out of a yaml.v3 error ("yaml: line 7: ...").
func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return yamlLinePrefix.ReplaceAllString(err.Error(), "")
}
