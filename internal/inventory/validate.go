package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// Names that reach an output (a bash script, Terraform, trust.yaml, a
// Markdown page) come from files anyone who can push controls, folder
// names and GitLab answers. Every renderer quotes for its language; these
// checks refuse at the edge what GitLab itself never allows, so that a
// path holding a newline, "..", "/etc" or "$(…)" never becomes a project
// at all.
//
// The rules are GitLab's, from Gitlab::PathRegex
// (https://gitlab.com/gitlab-org/gitlab/-/blob/master/lib/gitlab/path_regex.rb):
//
//   - a path segment has only letters, digits, '_', '-' and '.'
//     (PATH_REGEX_STR), at most 255 characters (Namespace::URL_MAX_LENGTH),
//     and cannot start with '-' (PATH_START_CHAR);
//   - a namespace segment cannot end in '.' (NAMESPACE_FORMAT_REGEX), no
//     segment ends in ".git" or ".atom" (NO_SUFFIX_REGEX);
//   - a group has at most 20 ancestors (Namespace::NUMBER_OF_ANCESTORS_ALLOWED);
//   - a top-level namespace is none of TOP_LEVEL_ROUTES, a subgroup none of
//     ILLEGAL_GROUP_PATH_WORDS and a project none of
//     ILLEGAL_PROJECT_PATH_WORDS (compared ignoring case).
//
// Stricter than PATH_REGEX_STR, as GitLab is for projects created since
// 16.0 (Gitlab::Regex.oci_repository_path_regex, "must not start or end
// with a special character and must not contain consecutive special
// characters", https://gitlab.com/gitlab-org/gitlab/-/issues/27483): no
// segment starts with '.' or holds "..", and a project path does not end
// in '.'. A leading dot is what makes ".", ".." and hidden folders; GitLab's
// own older rule accepted it, but no GitLab route can serve a segment "..".

// maxSegment is Namespace::URL_MAX_LENGTH.
const maxSegment = 255

// maxAncestors is Namespace::NUMBER_OF_ANCESTORS_ALLOWED.
const maxAncestors = 20

var segmentChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// topLevelRoutes is Gitlab::PathRegex::TOP_LEVEL_ROUTES: a top-level
// group or user cannot take these names.
var topLevelRoutes = wordSet(`- .well-known 404.html 422.html 500.html 502.html 503.html admin api
	apple-touch-icon.png assets dashboard deploy.html explore favicon.ico favicon.png groups
	health_check help import jwt login o oauth profile projects public robots.txt s search
	sitemap sitemap.xml sitemap.xml.gz slash-command-logo.png snippets unsubscribes uploads users v2`)

// projectWildcardRoutes is Gitlab::PathRegex::PROJECT_WILDCARD_ROUTES
// (ILLEGAL_PROJECT_PATH_WORDS; with GROUP_ROUTES, just "-", also
// ILLEGAL_GROUP_PATH_WORDS), single-segment words only: the multi-segment
// ones ("info/lfs/objects") are refused by their first segment's route,
// not as a name.
var projectWildcardRoutes = wordSet(`- badges blame blob builds commits create create_dir edit
	files find_file new preview raw refs tree update wikis`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// ErrBadPath is returned (wrapped) for a path GitLab does not allow.
var ErrBadPath = errors.New("not a GitLab path")

// ErrBadID is returned (wrapped) for an ID that is not a positive integer.
var ErrBadID = errors.New("not a GitLab ID")

// CheckProjectPath reports whether p is a project's full path as GitLab
// allows it: a namespace (a user or a group with its ancestors) and the
// project's own path.
func CheckProjectPath(p string) error {
	segs, err := splitPath(p)
	if err != nil {
		return err
	}
	if len(segs) < 2 {
		return badPath(p, "a project path has a namespace and a name (group/project)")
	}
	if len(segs) > maxAncestors+2 {
		return badPath(p, fmt.Sprintf("more than %d nested groups", maxAncestors+1))
	}
	for i, s := range segs {
		last := i == len(segs)-1
		if err := checkSegment(s, i == 0, last); err != nil {
			return badPath(p, err.Error())
		}
	}
	return nil
}

// CheckGroupPath reports whether p is a group's full path (a top-level
// group and up to 20 levels of subgroups) as GitLab allows it.
func CheckGroupPath(p string) error {
	segs, err := splitPath(p)
	if err != nil {
		return err
	}
	if len(segs) > maxAncestors+1 {
		return badPath(p, fmt.Sprintf("more than %d nested groups", maxAncestors+1))
	}
	for i, s := range segs {
		if err := checkSegment(s, i == 0, false); err != nil {
			return badPath(p, err.Error())
		}
	}
	return nil
}

// CheckID reports whether id is a valid ID: 0 stands for "not known",
// anything else must be positive (GitLab's IDs are serial keys).
func CheckID(id int) error {
	if id < 0 {
		return fmt.Errorf("id %d: %w: IDs are positive integers", id, ErrBadID)
	}
	return nil
}

func splitPath(p string) ([]string, error) {
	switch {
	case p == "":
		return nil, badPath(p, "empty")
	case !utf8.ValidString(p) || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return nil, badPath(p, "control characters")
	case strings.HasPrefix(p, "/"):
		return nil, badPath(p, "absolute: a GitLab path is relative to the server, like group/project")
	case len(p) > (maxAncestors+2)*(maxSegment+1):
		return nil, badPath(p, "too long")
	}
	return strings.Split(p, "/"), nil
}

// checkSegment checks one segment of a path; top is the first one, project
// the last one of a project path.
func checkSegment(s string, top, project bool) error {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return errors.New("empty segment (\"//\" or a trailing \"/\")")
	case s == "." || s == "..":
		return fmt.Errorf("segment %q", s)
	case len(s) > maxSegment:
		return fmt.Errorf("a segment longer than %d characters", maxSegment)
	case !segmentChars.MatchString(s):
		return fmt.Errorf("segment %s: only letters, digits, '_', '-' and '.' are allowed", strconv.Quote(s))
	case s[0] == '-' || s[0] == '.':
		return fmt.Errorf("segment %q starts with %q", s, s[0])
	case strings.Contains(s, ".."):
		return fmt.Errorf("segment %q holds \"..\"", s)
	case strings.HasSuffix(s, "."):
		return fmt.Errorf("segment %q ends in '.'", s)
	case strings.HasSuffix(s, ".git") || strings.HasSuffix(s, ".atom"):
		return fmt.Errorf("segment %q ends in .git or .atom", s)
	case top && topLevelRoutes[lower]:
		return fmt.Errorf("%q is reserved for a GitLab route at the top level", s)
	case !top && projectWildcardRoutes[lower]:
		kind := "group"
		if project {
			kind = "project"
		}
		return fmt.Errorf("%q is reserved for a GitLab route and cannot name a %s", s, kind)
	}
	return nil
}

func badPath(p, why string) error {
	return fmt.Errorf("path %s: %w: %s", strconv.Quote(p), ErrBadPath, why)
}

// QuoteName renders a name for a message: as is when it is a plain
// path, quoted with Go escapes when it holds anything that could end a
// line or pass for something else.
func QuoteName(s string) string {
	if s != "" && segmentChars.MatchString(strings.ReplaceAll(s, "/", "")) {
		return s
	}
	return strconv.Quote(s)
}

var policyName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// checkPolicy checks a fine-grained policy name's shape (read_jobs,
// admin_packages, or GitLab's enum values READ_JOBS)
// (https://docs.gitlab.com/api/graphql/reference/#cijobtokenscopepolicies).
func checkPolicy(p string) error {
	if !policyName.MatchString(p) {
		return fmt.Errorf("policy %s: not a policy name (letters, digits and '_')", strconv.Quote(p))
	}
	return nil
}

// lines are the line numbers of the inventory's list items, in the order
// they are decoded, so that a bad entry is reported where it is.
type lines struct {
	projects []projectLines
	groups   []int
}

type projectLines struct {
	line                       int
	allowProjects, allowGroups []int
	authLog                    []int
}

// itemLines reads the line numbers off the document tree.
func itemLines(doc *yaml.Node) lines {
	var l lines
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return l
	}
	root := doc.Content[0]
	for _, it := range seqItems(mapValue(root, "projects")) {
		pl := projectLines{line: it.Line}
		allow := mapValue(mapValue(it, "job_token_scope"), "allowlist")
		pl.allowProjects = lineList(seqItems(mapValue(allow, "projects")))
		pl.allowGroups = lineList(seqItems(mapValue(allow, "groups")))
		pl.authLog = lineList(seqItems(mapValue(it, "auth_log")))
		l.projects = append(l.projects, pl)
	}
	l.groups = lineList(seqItems(mapValue(root, "groups")))
	return l
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func lineList(ns []*yaml.Node) []int {
	out := make([]int, len(ns))
	for i, n := range ns {
		out[i] = n.Line
	}
	return out
}

func at(ls []int, i int) int {
	if i < len(ls) {
		return ls[i]
	}
	return 0
}

// validate drops, with an error diagnostic naming file:line, every entry
// of inv that GitLab could not hold: a bad path or ID, a project or group
// listed twice (by path, ignoring case, or by ID: an ID reference would
// otherwise go to whichever came last, and the plan target the wrong
// allowlist). The first of two duplicates stays. A bad allowlist entry or
// policy makes the project's current state unknown rather than dropping
// the entry: a plan must not read an allowlist it cannot trust as empty
// or partial. One bad entry never stops the rest.
//
// getLines gives the line numbers; it is called only for a diagnostic, so
// that a valid inventory is not parsed a second time for them.
func validate(inv *Inventory, file string, getLines func() lines) diag.List {
	var diags diag.List
	bad := func(line int, format string, args ...any) {
		diags.Errorf("", file, line, format, args...)
	}
	project := func(i int) projectLines {
		if l := getLines(); i < len(l.projects) {
			return l.projects[i]
		}
		return projectLines{}
	}
	projectLine := func(i int) int { return project(i).line }
	byPath := map[string]int{}
	byID := map[int]int{}
	kept := inv.Projects[:0]
	for i, p := range inv.Projects {
		if p == nil || p.Path == "" {
			bad(projectLine(i), "projects[%d]: path is required; entry skipped", i)
			continue
		}
		if err := CheckProjectPath(p.Path); err != nil {
			bad(projectLine(i), "project %v; entry skipped", err)
			continue
		}
		if err := CheckID(p.ID); err != nil {
			bad(projectLine(i), "project %s: %v; entry skipped", p.Path, err)
			continue
		}
		k := strings.ToLower(p.Path)
		if first, ok := byPath[k]; ok {
			bad(projectLine(i), "project %s is listed twice (first at line %d); this entry skipped", p.Path, projectLine(first))
			continue
		}
		if first, ok := byID[p.ID]; ok && p.ID != 0 {
			bad(projectLine(i), "project %s: id %d is already the id of the project at line %d; this entry skipped (IDs are unique)", p.Path, p.ID, projectLine(first))
			continue
		}
		switch p.Visibility {
		case "", "private", "internal", "public":
		default:
			bad(projectLine(i), "project %s: visibility %s is not private, internal or public; entry skipped", p.Path, QuoteName(p.Visibility))
			continue
		}
		if s := p.JobTokenScope; s != nil {
			if why, group, j := checkScope(s); why != "" {
				pl := project(i)
				ls := pl.allowProjects
				if group {
					ls = pl.allowGroups
				}
				bad(cmp.Or(at(ls, j), pl.line), "project %s: %s; its job token settings are treated as unknown (nothing is planned against them)", p.Path, why)
				p.JobTokenScope, p.JobTokenScopeUnknown = nil, true
			}
		}
		logs := p.AuthLog[:0]
		for j, a := range p.AuthLog {
			if err := CheckProjectPath(a.Origin); err != nil {
				pl := project(i)
				bad(cmp.Or(at(pl.authLog, j), pl.line), "project %s: auth_log origin %v; row skipped", p.Path, err)
				continue
			}
			logs = append(logs, a)
		}
		p.AuthLog = logs
		byPath[k] = i
		if p.ID != 0 {
			byID[p.ID] = i
		}
		kept = append(kept, p)
	}
	clear(inv.Projects[len(kept):])
	inv.Projects = kept

	groupLine := func(i int) int { return at(getLines().groups, i) }
	gPath := map[string]int{}
	gID := map[int]int{}
	groups := inv.Groups[:0]
	for i, g := range inv.Groups {
		if g.Path == "" {
			bad(groupLine(i), "groups[%d]: path is required; entry skipped", i)
			continue
		}
		if err := CheckGroupPath(g.Path); err != nil {
			bad(groupLine(i), "group %v; entry skipped", err)
			continue
		}
		if err := CheckID(g.ID); err != nil {
			bad(groupLine(i), "group %s: %v; entry skipped", g.Path, err)
			continue
		}
		k := strings.ToLower(g.Path)
		if first, ok := gPath[k]; ok {
			bad(groupLine(i), "group %s is listed twice (first at line %d); this entry skipped", g.Path, groupLine(first))
			continue
		}
		if first, ok := gID[g.ID]; ok && g.ID != 0 {
			bad(groupLine(i), "group %s: id %d is already the id of the group at line %d; this entry skipped (IDs are unique)", g.Path, g.ID, groupLine(first))
			continue
		}
		gPath[k] = i
		if g.ID != 0 {
			gID[g.ID] = i
		}
		groups = append(groups, g)
	}
	inv.Groups = groups
	return diags
}

// checkScope says what is wrong with an allowlist ("" when nothing), and
// which entry is at fault: a group entry or not, and its index.
func checkScope(s *JobTokenScope) (why string, group bool, index int) {
	for kind, es := range [][]Entry{s.Allowlist.Projects, s.Allowlist.Groups} {
		check := CheckProjectPath
		if kind == 1 {
			check = CheckGroupPath
		}
		for j, e := range es {
			if err := check(e.Path); err != nil {
				return "allowlist entry " + err.Error(), kind == 1, j
			}
			if err := CheckID(e.ID); err != nil {
				return "allowlist entry " + e.Path + ": " + err.Error(), kind == 1, j
			}
			for _, pol := range e.Policies {
				if err := checkPolicy(pol); err != nil {
					return "allowlist entry " + e.Path + ": " + err.Error(), kind == 1, j
				}
			}
		}
	}
	return "", false, 0
}

// CheckServerURL refuses a server URL that is not an http(s) URL of a
// host: the URL is written into scripts and steps people run.
func CheckServerURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", strconv.Quote(s), err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil, u.RawQuery != "", u.Fragment != "",
		strings.ContainsAny(s, " \"'`$\\<>|;&(){}^") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		return fmt.Errorf("%s: not an http(s) URL of a GitLab server (like https://gitlab.example.com)", strconv.Quote(s))
	}
	return nil
}
