package trust

import (
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FindingKinds are the audit finding kinds an acknowledgement may name
// (docs/design.md §6c). The audit package defines them; they are listed
// here too so that the loader reports a misspelt kind at its line, and
// audit's tests check that the two lists agree.
var FindingKinds = []string{
	"expired", "impossible", "missing", "narrower", "no-owner", "not-enforced",
	"remove", "review", "stale", "denied", "unapproved", "unknown", "unreviewed", "wider",
}

// Acknowledgement is a reviewed decision to live with one audit finding
// for now: the finding is still reported, but does not fail the audit.
// Reason and owner are required, as for an approval; an expired
// acknowledgement no longer counts and the finding fails again.
type Acknowledgement struct {
	Kind    string // one of FindingKinds
	Project string // the project the finding is about
	// Entry is the allowlist entry or caller (a project or group path)
	// the finding names; empty for findings about the project itself
	// (not-enforced, unknown).
	Entry   string
	Reason  string
	Owner   string
	Expires time.Time // zero when it does not expire
	Expired bool      // set by Load when a clock was given and Expires has passed
	Line    int
}

// Acknowledged returns the acknowledgement of the finding kind about
// project and entry, if any (expired ones included: check Expired).
func (f *File) Acknowledged(kind, project, entry string) (Acknowledgement, bool) {
	if f == nil {
		return Acknowledgement{}, false
	}
	for _, a := range f.Acknowledgements {
		if a.Kind == kind && samePath(a.Project, project) && samePath(strings.Trim(a.Entry, "/"), strings.Trim(entry, "/")) {
			return a, true
		}
	}
	return Acknowledgement{}, false
}

// acknowledged reads one item of acknowledged: the same reason, owner and
// expiry terms as an approval, for one finding.
func (l *loader) acknowledged(n *yaml.Node) {
	a := Acknowledgement{Line: n.Line}
	var t terms
	for _, kv := range l.pairs(n, "an acknowledgement", "kind", "project", "entry", "reason", "owner", "expires") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "kind":
			a.Kind = l.str(v, "kind")
		case "project":
			a.Project = l.str(v, "project")
		case "entry":
			a.Entry = l.str(v, "entry")
		default:
			l.term(&t, k.Value, v)
		}
	}
	a.Reason, a.Owner, a.Expires = t.reason, t.owner, t.expires
	if !l.required(n, "acknowledgement", map[string]string{"kind": a.Kind, "project": a.Project, "owner": a.Owner}) {
		return
	}
	if !slices.Contains(FindingKinds, a.Kind) {
		valid := slices.Sorted(slices.Values(FindingKinds))
		l.errAt(n.Line, "acknowledgement: unknown finding kind %q (valid: %s)", a.Kind, strings.Join(valid, ", "))
		return
	}
	// An acknowledgement accepts a finding; it grants nothing, so a name
	// outside the scope is kept by path (its finding cannot arise in this
	// run), and only an unknown name is a mistake.
	a.Project, _ = l.approved(a.Project, n.Line, "project")
	if a.Entry != "" {
		e := strings.Trim(a.Entry, "/")
		if ix := l.opts.Index; ix != nil {
			if _, ok := ix.Group(e); ok {
				a.Entry, _ = l.groupPath(e, n.Line, "entry")
			} else {
				a.Entry, _ = l.approved(e, n.Line, "entry")
			}
		} else {
			a.Entry = e
		}
	}
	what := a.Kind + " " + a.Project
	if a.Entry != "" {
		what += " " + a.Entry
	}
	for _, prev := range l.f.Acknowledgements {
		if prev.Kind == a.Kind && samePath(prev.Project, a.Project) && samePath(prev.Entry, a.Entry) {
			l.errAt(n.Line, "duplicate acknowledgement of %s (first at line %d); merge them", what, prev.Line)
			return
		}
	}
	l.reasonOwner(n.Line, a.Reason, a.Owner, "acknowledged "+what)
	a.Expired = l.expired(n.Line, a.Expires, "acknowledged "+what)
	l.f.Acknowledgements = append(l.f.Acknowledgements, a)
}
