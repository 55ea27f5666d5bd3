package graph

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// maxCandidates bounds the candidates an unresolved reason lists.
const maxCandidates = 5

// varPart finds the parts of a target left unexpanded: ${NAME}, $NAME and
// $(...).
var varPart = regexp.MustCompile(`\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*`)

// resolvePrefix resolves a target whose path starts with a known group
// and holds a value not known statically ($CI_SERVER_URL/platform/$NAME):
// the projects under that group whose path fits the pattern (each unknown
// part standing for any text) are the candidates. One candidate is the
// callee; several are listed in the reason, as is none. ok is false when
// the target has no such shape (no unknown part, or no group before it).
func resolvePrefix(ix *inventory.Index, t use.Target) (callee, reason string, ok bool) {
	v := t.Value
	switch t.Kind {
	case use.Path, use.Image:
	case use.Unknown:
		// A project segment of an API URL: platform%2F${NAME}.
		if !strings.Contains(strings.ToUpper(v), "%2F") {
			return "", "", false
		}
		v = strings.NewReplacer("%2F", "/", "%2f", "/").Replace(v)
	default:
		return "", "", false
	}
	first := varPart.FindStringIndex(v)
	if first == nil {
		return "", "", false
	}
	group := v[:max(strings.LastIndexByte(v[:first[0]], '/'), 0)]
	if group == "" {
		// "${GROUP}/x" or "lib-${X}": any project could fit.
		return "", "", false
	}
	// A project path fits the whole pattern; a registry path is the
	// project's path followed by image names, so a project fits any
	// leading segments of it.
	var pats []*regexp.Regexp
	segs := strings.Split(v, "/")
	from := len(segs)
	if t.Kind == use.Image {
		from = strings.Count(group, "/") + 2
	}
	for k := from; k <= len(segs); k++ {
		pats = append(pats, pattern(strings.Join(segs[:k], "/")))
	}
	var cands []string
	if t.Kind == use.Image {
		// The project the known part lies in owns its images too
		// (platform/app/${IMAGE} is an image of platform/app).
		if p := ix.LongestProjectPrefix(group); p != nil {
			cands = append(cands, p.Path)
		}
	}
	for _, p := range ix.ProjectsUnder(group) {
		for _, re := range pats {
			if re.MatchString(p.Path) {
				cands = append(cands, p.Path)
				break
			}
		}
	}
	base := cmp.Or(t.Reason, "the path holds a value that is not known statically")
	switch len(cands) {
	case 0:
		return "", fmt.Sprintf("%s; no project under %s fits %s", base, group, v), true
	case 1:
		return cands[0], "", true
	}
	shown, more := cands, ""
	if len(shown) > maxCandidates {
		shown, more = shown[:maxCandidates], fmt.Sprintf(" and %d more", len(cands)-maxCandidates)
	}
	return "", fmt.Sprintf("%s; %d projects under %s fit %s: %s%s", base, len(cands), group, v, strings.Join(shown, ", "), more), true
}

// pattern matches a path in which each unknown part stands for any text
// (case-insensitive, as GitLab paths are).
func pattern(v string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?i)^")
	last := 0
	for _, m := range varPart.FindAllStringIndex(v, -1) {
		b.WriteString(regexp.QuoteMeta(v[last:m[0]]))
		b.WriteString(".+")
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(v[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
