package trust

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/redact"
	"github.com/tokenscope/tokenscope/internal/use"
)

// maxEvidence bounds the evidence comments of one edge: enough to judge
// it, few enough to keep the file reviewable.
const maxEvidence = 8

// DraftOptions tune Draft.
type DraftOptions struct {
	// Source names what was scanned, for the header (a snapshot path).
	Source string
	// Inventory, when set, holds the allowlists as they are today: the
	// draft starts from them (see listedEntries), so that entries nobody
	// drafted do not surface later as "unapproved" and get pruned.
	Inventory *inventory.Inventory
}

// listed is one entry on a callee's allowlist today.
type listed struct {
	callee string
	entry  inventory.Entry
	group  bool
}

// listedEntries are the allowlist entries of inv, by callee then path.
func listedEntries(inv *inventory.Inventory) []listed {
	if inv == nil {
		return nil
	}
	var out []listed
	for _, p := range inv.Projects {
		if p.JobTokenScope == nil {
			continue
		}
		for _, e := range p.JobTokenScope.Allowlist.Projects {
			out = append(out, listed{callee: p.Path, entry: e})
		}
		for _, e := range p.JobTokenScope.Allowlist.Groups {
			out = append(out, listed{callee: p.Path, entry: e, group: true})
		}
	}
	slices.SortFunc(out, func(a, b listed) int {
		return cmp.Or(cmp.Compare(a.callee, b.callee), cmp.Compare(a.entry.Path, b.entry.Path))
	})
	return out
}

func edgeKey(caller, callee string) string {
	return strings.ToLower(caller) + "\x00" + strings.ToLower(callee)
}

// ListedWithoutUse counts the project entries on today's allowlists that
// no discovered use explains: Draft drafts them as edges to review.
func ListedWithoutUse(g *graph.Graph, inv *inventory.Inventory) int {
	seen := map[string]bool{}
	for _, e := range g.Edges {
		if draftable(e) {
			seen[edgeKey(e.Caller, e.Callee)] = true
		}
	}
	n := 0
	for _, l := range listedEntries(inv) {
		if !l.group && !seen[edgeKey(l.entry.Path, l.callee)] {
			n++
		}
	}
	return n
}

// Draft writes a trust.yaml for a human to review: every edge discovery
// found, with its access kinds and its evidence as comments, placeholders
// for reason and owner, the unresolved references as comments to look at,
// and suggested waves. Accesses a job token can never make are not
// drafted as edges; they are listed with the credential to use instead.
// The text is generated, not marshalled, so that comments sit where a
// reviewer needs them; it always loads back with Load (placeholders give
// warnings). Output is sorted and stable, so drafts of the same org diff
// cleanly.
func Draft(g *graph.Graph, opts DraftOptions) []byte {
	var b bytes.Buffer
	header(&b, opts)
	fanIn := map[string]int{}
	var never []graph.Edge
	fmt.Fprintf(&b, "version: %d\n\n", Version)
	var drafted []graph.Edge
	for _, e := range g.Edges {
		if !draftable(e) {
			never = append(never, e)
			continue
		}
		drafted = append(drafted, e)
		fanIn[e.Callee]++
	}
	// Today's allowlists: an entry with a discovered use is noted on its
	// edge; one without is drafted too, marked for review, so that the
	// reviewer decides about it instead of --prune removing it unseen.
	onList := map[string]inventory.Entry{}
	seen := map[string]bool{}
	for _, e := range drafted {
		// An edge whose every access a job token can never make explains
		// no entry: such an entry is drafted as one without a use.
		seen[edgeKey(e.Caller, e.Callee)] = true
	}
	var unused, groupEntries []listed
	for _, l := range listedEntries(opts.Inventory) {
		switch {
		case l.group:
			groupEntries = append(groupEntries, l)
		case seen[edgeKey(l.entry.Path, l.callee)]:
			onList[edgeKey(l.entry.Path, l.callee)] = l.entry
		default:
			unused = append(unused, l)
		}
	}
	if len(drafted) == 0 && len(unused) == 0 {
		b.WriteString("edges: []\n")
	} else {
		b.WriteString("edges:\n")
		for i, e := range drafted {
			if i > 0 {
				b.WriteString("\n")
			}
			en, ok := onList[edgeKey(e.Caller, e.Callee)]
			draftEdge(&b, e, listedNote(en, ok))
		}
		if len(unused) > 0 {
			if len(drafted) > 0 {
				b.WriteString("\n")
			}
			b.WriteString("  # On the allowlists today, no use found: neither a CI file nor the\n  # authentication log shows these callers reaching their callee. Keep an edge\n  # only if the caller still needs it (name its access kinds); delete it and\n  # plan with --prune to remove the entry.\n")
			for _, l := range unused {
				b.WriteString("\n")
				draftListed(&b, l)
			}
		}
	}
	if len(never) > 0 {
		b.WriteString("\n# Not drafted: accesses a job token can never make. Give these jobs another\n# credential instead (no allowlist entry helps):\n")
		for _, e := range never {
			fmt.Fprintf(&b, "#   %s -> %s: %s\n", comment(e.Caller), comment(e.Callee), kindList(e.Access))
			for _, k := range e.Access {
				if in, ok := access.Lookup(k); ok && in.Never {
					fmt.Fprintf(&b, "#     %s\n", comment(in.NoPolicyReason))
				}
			}
			evidence(&b, e.Uses, "#     ")
		}
	}
	b.WriteString(`
# Group entries are explicit widenings: one admits every project in the group
# and its subgroups, including projects created later. Add one only when you
# mean that, for example:
#   - callee: platform/base-images
#     caller_group: apps
#     reason: every app builds on the base images
#     owner: "@platform"
`)
	draftGroups(&b, groupEntries, drafted)
	b.WriteString(`
# Deny rules win over every approval, for example to keep Terraform state to
# the one project that deploys:
#   - {callee: infra/tfstate, except: [apps/deploy], reason: state holds secrets}
deny: []
`)
	if len(g.Unresolved) > 0 {
		b.WriteString("\n# Unresolved references: tokenscope could not tell which project these name.\n# Look at each one; if it is a job-token use, add an edge for it above.\n")
		for _, u := range g.Unresolved {
			where := u.File
			if u.Line > 0 {
				where = fmt.Sprintf("%s:%d", u.File, u.Line)
			}
			if u.Job != "" {
				where += " (job " + u.Job + ")"
			}
			acc := string(u.Access)
			if acc == "" {
				acc = "access unknown"
			}
			fmt.Fprintf(&b, "#   %s %s: %s %s\n#     %s\n", comment(use.Owner(u.Project, u.Caller)), comment(where), acc, comment(u.Reference), comment(u.Reason))
		}
	}
	b.WriteString("\n# Rollout waves, suggested: a pilot of callees with few callers, then one wave\n# per top-level group, then everything (projects created later included).\n# Enforcement goes wave by wave; `tokenscope plan` shows each callee's wave.\n")
	writeWaves(&b, SuggestWaves(fanIn), fanIn)
	return b.Bytes()
}

func header(b *bytes.Buffer, opts DraftOptions) {
	src := "the scan"
	if opts.Source != "" {
		src = comment(opts.Source)
	}
	fmt.Fprintf(b, `# trust.yaml: the reviewed intent for CI_JOB_TOKEN access.
# Drafted by tokenscope trust init from what discovery found in %s.
# Review it in a merge request:
#   - keep an edge only if the caller really needs the callee, and delete the
#     rest: a deleted edge shows up in tokenscope plan as "needs review",
#     never as access;
#   - replace every %s in reason and owner;
#   - name the access kinds of edges known only from the authentication log
#     (access: []), or their entries keep default permissions;
#   - add an expires: date to temporary access;
#   - delete "unreviewed: true" from each edge you have reviewed: until then
#     the edge is not approved (plan lists it as "needs review") and
#     tokenscope trust check fails.
# Each edge's evidence is in the comments above it: origin, file:line (job),
# and what was matched.
`, src, Placeholder)
}

// listedNote says that an edge's entry is on the allowlist today, with
// what it grants there; "" when it is not.
func listedNote(e inventory.Entry, ok bool) string {
	if !ok {
		return ""
	}
	s := "on the allowlist today, " + entryGrants(e)
	if e.Autopopulated {
		s += ", added by GitLab from the authentication log"
	}
	return s
}

func entryGrants(e inventory.Entry) string {
	if e.Policies == nil {
		return "with default permissions"
	}
	return "with policies " + strings.Join(e.Policies, ", ")
}

// draftListed drafts an allowlist entry that no discovered use explains,
// marked for review like every drafted edge.
func draftListed(b *bytes.Buffer, l listed) {
	fmt.Fprintf(b, "  # %s -> %s\n", comment(l.entry.Path), comment(l.callee))
	fmt.Fprintf(b, "  #   on the allowlist, no use found (%s): review whether it is\n  #   still needed\n", comment(entryGrants(l.entry)))
	if l.entry.Autopopulated {
		// GitLab filled the allowlist from the authentication log when it
		// enforced it (autopopulation): a use once, not necessarily now.
		b.WriteString("  #   added by GitLab from the authentication log (autopopulated)\n")
	}
	fmt.Fprintf(b, "  - caller: %s\n    callee: %s\n    access: []\n", scalar(l.entry.Path), scalar(l.callee))
	fmt.Fprintf(b, "    reason: %s\n", scalar(fmt.Sprintf("%s: on the allowlist, no use found: why %s needs %s", Placeholder, l.entry.Path, l.callee)))
	fmt.Fprintf(b, "    owner: %s\n", scalar(Placeholder))
	b.WriteString("    unreviewed: true\n")
}

// draftGroups writes the groups section: today's group entries, drafted
// as grants to review, each with the discovered uses from the group.
func draftGroups(b *bytes.Buffer, groups []listed, drafted []graph.Edge) {
	if len(groups) == 0 {
		b.WriteString("groups: []\n")
		return
	}
	b.WriteString("groups:\n")
	for i, l := range groups {
		if i > 0 {
			b.WriteString("\n")
		}
		var callers []string
		prefix := strings.ToLower(l.entry.Path) + "/"
		for _, e := range drafted {
			if strings.EqualFold(e.Callee, l.callee) && strings.HasPrefix(strings.ToLower(e.Caller), prefix) {
				callers = append(callers, e.Caller)
			}
		}
		fmt.Fprintf(b, "  # group %s -> %s\n", comment(l.entry.Path), comment(l.callee))
		fmt.Fprintf(b, "  #   on the allowlist today (%s): it admits every project in the group\n", comment(entryGrants(l.entry)))
		if len(callers) > 0 {
			fmt.Fprintf(b, "  #   uses found from the group: %s (drafted as edges above)\n", comment(strings.Join(callers, ", ")))
		} else {
			b.WriteString("  #   no use found from the group: review whether it is still needed\n")
		}
		fmt.Fprintf(b, "  - callee: %s\n    caller_group: %s\n    access: []\n", scalar(l.callee), scalar(l.entry.Path))
		fmt.Fprintf(b, "    reason: %s\n", scalar(fmt.Sprintf("%s: why every project of %s needs %s", Placeholder, l.entry.Path, l.callee)))
		fmt.Fprintf(b, "    owner: %s\n", scalar(Placeholder))
		b.WriteString("    unreviewed: true\n")
	}
}

func draftEdge(b *bytes.Buffer, e graph.Edge, note string) {
	fmt.Fprintf(b, "  # %s -> %s\n", comment(e.Caller), comment(e.Callee))
	if note != "" {
		fmt.Fprintf(b, "  #   %s\n", comment(note))
	}
	evidence(b, e.Uses, "  #   ")
	kinds := possible(e.Access)
	for _, k := range e.Access {
		if in, ok := access.Lookup(k); ok && in.Never {
			fmt.Fprintf(b, "  #   not drafted: %s (%s)\n", k, comment(in.NoPolicyReason))
		}
	}
	if len(e.Access) == 0 {
		b.WriteString("  #   access unknown: the authentication log does not say which; check the\n  #   caller's jobs and name the kinds\n")
	}
	fmt.Fprintf(b, "  - caller: %s\n    callee: %s\n    access: [%s]\n", scalar(e.Caller), scalar(e.Callee), kindList(kinds))
	fmt.Fprintf(b, "    reason: %s\n", scalar(fmt.Sprintf("%s: why %s needs %s", Placeholder, e.Caller, e.Callee)))
	fmt.Fprintf(b, "    owner: %s\n", scalar(Placeholder))
	// A draft is not a review: the marker keeps the edge out of every plan's
	// approvals until a reviewer deletes it.
	b.WriteString("    unreviewed: true\n")
}

func evidence(b *bytes.Buffer, uses []use.Use, prefix string) {
	for i, u := range uses {
		if i == maxEvidence {
			fmt.Fprintf(b, "%s... and %d more (tokenscope scan lists them all)\n", prefix, len(uses)-maxEvidence)
			return
		}
		line := string(u.Origin)
		if p := usePlace(u); p != "" {
			line += " " + p
		}
		line += ":"
		if u.Access != "" {
			line += " " + string(u.Access)
		}
		fmt.Fprintf(b, "%s%s %s\n", prefix, comment(line), comment(u.Evidence.Detail))
	}
}

func usePlace(u use.Use) string {
	if u.Evidence.File == "" {
		return ""
	}
	p := u.Evidence.Place()
	if u.Evidence.Job != "" {
		p += " (job " + u.Evidence.Job + ")"
	}
	return p
}

func writeWaves(b *bytes.Buffer, waves []Wave, fanIn map[string]int) {
	b.WriteString("waves:\n")
	for _, w := range waves {
		fmt.Fprintf(b, "  - name: %s\n", scalar(w.Name))
		switch {
		case w.All:
			b.WriteString("    all: true\n")
		case len(w.Projects) > 0:
			counts := make([]string, len(w.Projects))
			for i, p := range w.Projects {
				counts[i] = fmt.Sprintf("%d", fanIn[p])
			}
			fmt.Fprintf(b, "    projects: [%s]  # callers: %s\n", scalars(w.Projects), strings.Join(counts, ", "))
		default:
			fmt.Fprintf(b, "    groups: [%s]\n", scalars(w.Groups))
		}
	}
}

// draftable reports whether e is drafted as an edge: it has a kind a job
// token can use, or no kind at all (known only from the authentication
// log).
func draftable(e graph.Edge) bool {
	return len(e.Access) == 0 || len(possible(e.Access)) > 0
}

// possible drops the kinds a job token can never use across projects.
func possible(ks []access.Kind) []access.Kind {
	return slices.DeleteFunc(slices.Clone(ks), func(k access.Kind) bool {
		in, ok := access.Lookup(k)
		return ok && in.Never
	})
}

func kindList(ks []access.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

var plain = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)

// scalar renders s as a YAML scalar: plain when that is unambiguous,
// else double-quoted.
func scalar(s string) string {
	if plain.MatchString(s) && !reserved(s) {
		return s
	}
	return doubleQuoted(s)
}

// doubleQuoted writes s as a YAML double-quoted scalar that reads back as
// s: JSON escapes are YAML escapes, but JSON leaves DEL, the C1 controls
// (U+0085 is a YAML line break) and U+FEFF raw, which YAML does not allow
// unescaped (https://yaml.org/spec/1.2.2/#51-character-set), so those are
// \u-escaped too. Invalid UTF-8 becomes U+FFFD, as JSON does.
func doubleQuoted(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return escapeNonPrintable(out)
}

func escapeNonPrintable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfeff {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func scalars(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = scalar(s)
	}
	return strings.Join(out, ", ")
}

// reserved reports plain scalars YAML would read as something other than
// a string.
func reserved(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~":
		return true
	}
	if numberLike.MatchString(s) {
		return true
	}
	// Whatever else a YAML reader resolves to something other than this
	// string (1e3, 0x1f, 0o17 are numbers).
	var n yaml.Node
	if yaml.Unmarshal([]byte(s), &n) != nil || len(n.Content) != 1 {
		return true
	}
	c := n.Content[0]
	return c.Kind != yaml.ScalarNode || c.Tag != "!!str" || c.Value != s
}

var numberLike = regexp.MustCompile(`^[0-9._-]+$`)

// comment makes text safe inside a YAML comment: one line, no control
// characters, and no token (evidence is redacted by detectors; this is a
// second guard, as a draft is committed to a repository).
//
// YAML ends a comment at \r, \n and, in yaml.v3 as in YAML 1.1, at U+0085,
// U+2028 and U+2029 too: all of them become a space, so that nothing from
// a name or evidence starts a key of its own.
func comment(s string) string {
	s = strings.ToValidUTF8(redact.String(s), "\ufffd")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == 0x85 || r == 0x2028 || r == 0x2029:
			return ' '
		case r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xfeff:
			return -1
		}
		return r
	}, s)
}
