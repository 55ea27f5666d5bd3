package ciconfig

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// dividers finds up to max matches of GitLab's
// MultiDocYaml::MULTI_DOC_DIVIDER, /^---\s+/: the split is a regular
// expression over the text, not a YAML stream parse. Written out because
// it runs over every file.
func dividers(text string, max int) [][2]int {
	var out [][2]int
	for i := 0; len(out) < max && i < len(text); {
		j := strings.Index(text[i:], "---")
		if j < 0 {
			break
		}
		pos := i + j
		end := pos + 3
		if (pos == 0 || text[pos-1] == '\n') && end < len(text) && rubySpace(text[end]) {
			for end < len(text) && rubySpace(text[end]) {
				end++
			}
			out = append(out, [2]int{pos, end})
			i = end
			continue
		}
		i = pos + 1
	}
	return out
}

func rubySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// maxDocuments is Yaml::Loader::MAX_DOCUMENTS: a header and the config.
const maxDocuments = 2

// parsed is one file after the document split and the YAML load.
type parsed struct {
	header  *node // the spec: document; nil when the file has none
	content *node // the configuration document; nil when empty
	diags   diag.List
	failed  bool // an error made the file unusable
}

// parseFile splits data into its documents and loads them with Psych's
// semantics. Budgets bound the expanded size and depth of every document.
func parseFile(src *source, data []byte, lim Limits) *parsed {
	p := &parsed{}
	text := string(data)
	// Split into at most maxDocuments+1 pieces, as GitLab does, so that a
	// leading divider does not count as a document.
	cuts := dividers(text, maxDocuments)
	type piece struct {
		start, end int
	}
	var pieces []piece
	prev := 0
	for _, c := range cuts {
		pieces = append(pieces, piece{prev, c[0]})
		prev = c[1]
	}
	pieces = append(pieces, piece{prev, len(text)})

	var docs []*node
	for _, pc := range pieces {
		lineOff := strings.Count(text[:pc.start], "\n")
		c := &converter{src: src, lineOff: lineOff, maxNodes: int64(lim.MaxNodes), maxDepth: lim.MaxDepth, diags: &p.diags}
		n := c.load(text[pc.start:pc.end])
		if c.failed {
			p.failed = true
			return p
		}
		// GitLab drops a blank leading piece and (reject_empty) any blank
		// document.
		if isBlank(n) {
			continue
		}
		docs = append(docs, n)
	}
	switch len(docs) {
	case 0:
	case 1:
		p.content = docs[0]
	default:
		p.header, p.content = docs[0], docs[len(docs)-1]
		if len(docs) > maxDocuments {
			p.diags = append(p.diags, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: src.project, File: src.file, Line: int(docs[1].line)},
				Summary: fmt.Sprintf("this file has more than %d YAML documents: GitLab reads the first as the spec: header and the last as the configuration, and ignores this one", maxDocuments),
				Detail:  "keep one spec: header and one configuration document"})
		}
	}
	return p
}

func isBlank(n *node) bool {
	switch {
	case n == nil || n.kind == kNull:
		return true
	case n.kind == kMap:
		return len(n.pairs) == 0
	case n.kind == kSeq:
		return len(n.items) == 0
	case n.kind == kScalar:
		return strings.TrimSpace(n.str) == "" && n.typ == tStr
	}
	return false
}

// converter turns a yaml.Node tree into nodes, applying Psych's typing and
// merge-key rules. Anchored nodes are converted once and shared by every
// alias, so memory follows the text, while count and depth follow the
// expanded tree that GitLab's DeepSize check measures.
type converter struct {
	src      *source
	lineOff  int
	maxNodes int64
	maxDepth int
	diags    *diag.List
	memo     map[*yaml.Node]*node
	active   map[*yaml.Node]bool
	work     int64
	failed   bool
	slab     []node
	// text is the piece being converted; lineStarts indexes it on demand.
	text       string
	lineStarts []int
}

var (
	reYAMLErr       = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	reUnknownAnchor = regexp.MustCompile(`unknown anchor '(.*)' referenced`)
)

// safeUnmarshal parses text into a yaml.Node. yaml.v3 is third-party code
// fed hostile input: a panic in it becomes an error for this file.
func safeUnmarshal(text string, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	return yaml.Unmarshal([]byte(text), n)
}

// maxProblemSearch bounds the text re-parsed to place a syntax error.
const maxProblemSearch = 256 << 10

// problemLine finds the line where a syntax error shows. yaml.v3 reports
// the line where the enclosing block starts; the first line whose prefix
// no longer parses is where the user has to look.
func problemLine(text string, reported int) int {
	if len(text) > maxProblemSearch {
		return reported
	}
	lines := strings.SplitAfter(text, "\n")
	fails := func(k int) bool {
		var n yaml.Node
		return safeUnmarshal(strings.Join(lines[:k], ""), &n) != nil
	}
	lo, hi := reported, len(lines) // the prefix of hi lines fails
	if lo < 1 || lo > hi || !fails(hi) {
		return reported
	}
	if fails(lo) {
		return lo
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// aliasLine finds the first line that uses *name.
func aliasLine(text, name string) int {
	re, err := regexp.Compile(`\*` + regexp.QuoteMeta(name) + `\b`)
	if err != nil {
		return 0
	}
	loc := re.FindStringIndex(text)
	if loc == nil {
		return 0
	}
	return strings.Count(text[:loc[0]], "\n") + 1
}

func (c *converter) load(text string) (out *node) {
	c.text = text
	var doc yaml.Node
	err := safeUnmarshal(text, &doc)
	if err != nil {
		line, msg := 0, err.Error()
		if m := reYAMLErr.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			line = problemLine(text, line) + c.lineOff
			msg = m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
			if m := reUnknownAnchor.FindStringSubmatch(msg); m != nil {
				line = aliasLine(text, m[1]) + c.lineOff
			} else if !strings.HasPrefix(msg, "parser failure") {
				line = problemLine(text, 1) + c.lineOff
			}
		}
		c.fatal(line, "invalid YAML: %s", msg)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	n := c.convert(doc.Content[0], 1)
	if c.failed {
		return nil
	}
	if n.count > c.maxNodes {
		c.fatal(n.pos().Line, "the parsed YAML is too big: it expands to more than %d values (anchors and aliases are counted each time they are used; limit %s, %s)", c.maxNodes, limits.YAMLNodes, limits.Raise(limits.YAMLNodes, c.maxNodes))
		return nil
	}
	if int(n.depth) > c.maxDepth {
		c.fatal(n.pos().Line, "the parsed YAML is nested more than %d levels deep (%s)", c.maxDepth, limits.FixedNote(limits.YAMLDepth))
		return nil
	}
	return n
}

func (c *converter) fatal(line int, format string, args ...any) {
	if c.failed {
		return
	}
	c.failed = true
	d := diag.Diagnostic{Severity: diag.Error, Pos: loc.Pos{Project: c.src.project, File: c.src.file, Line: line},
		Summary: fmt.Sprintf(format, args...)}
	d.Detail = "fix the file; GitLab rejects it too, so the pipeline does not run"
	*c.diags = append(*c.diags, d)
}

func (c *converter) line(n *yaml.Node) int { return n.Line + c.lineOff }

func (c *converter) report(sev diag.Severity, line int, detail, format string, args ...any) {
	*c.diags = append(*c.diags, diag.Diagnostic{Severity: sev, Pos: loc.Pos{Project: c.src.project, File: c.src.file, Line: line},
		Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// alloc hands out scalar nodes from a slab: most nodes are scalars, and
// one allocation per node dominates the load otherwise.
func (c *converter) alloc() *node {
	if len(c.slab) == 0 {
		c.slab = make([]node, 32)
	}
	n := &c.slab[0]
	c.slab = c.slab[1:]
	return n
}

func (c *converter) step(line int) bool {
	c.work++
	if c.work > c.maxNodes {
		c.fatal(line, "the parsed YAML is too big: building it takes more than %d steps (anchors, aliases and merge keys are counted each time they are used; limit %s, %s)", c.maxNodes, limits.YAMLNodes, limits.Raise(limits.YAMLNodes, c.maxNodes))
	}
	return !c.failed
}

func (c *converter) convert(n *yaml.Node, depth int) *node {
	line := c.line(n)
	if c.failed || !c.step(line) {
		return newNull(c.src, line)
	}
	if depth > c.maxDepth {
		c.fatal(line, "the parsed YAML is nested more than %d levels deep (%s)", c.maxDepth, limits.FixedNote(limits.YAMLDepth))
		return newNull(c.src, line)
	}
	if n.Kind == yaml.AliasNode {
		return c.alias(n, depth)
	}
	if n.Anchor != "" {
		if m, ok := c.memo[n]; ok {
			return m
		}
		if c.active == nil {
			c.active = map[*yaml.Node]bool{}
			c.memo = map[*yaml.Node]*node{}
		}
		c.active[n] = true
		defer delete(c.active, n)
	}
	var out *node
	switch n.Kind {
	case yaml.ScalarNode:
		out = c.scalar(n, line)
	case yaml.SequenceNode:
		items := make([]*node, 0, len(n.Content))
		var total int64
		for _, it := range n.Content {
			v := c.convert(it, depth+1)
			items = append(items, v)
			if !c.grow(&total, v, line) {
				break
			}
		}
		out = &node{kind: kSeq, src: c.src, line: int32(line), items: items}
		if n.Tag == "!reference" {
			out.kind = kRef
		} else {
			c.checkTag(n, line, "!!seq")
		}
		out.finish()
	case yaml.MappingNode:
		if n.Tag == "!reference" {
			out = &node{kind: kRef, src: c.src, line: int32(line), str: "{...}"}
			out.finish()
			break
		}
		out = c.mapping(n, line, depth)
	default:
		out = newNull(c.src, line)
	}
	if !c.failed && out.count > c.maxNodes {
		c.fatal(line, "the parsed YAML is too big: it expands to more than %d values (anchors and aliases are counted each time they are used; limit %s, %s)", c.maxNodes, limits.YAMLNodes, limits.Raise(limits.YAMLNodes, c.maxNodes))
	}
	if n.Anchor != "" {
		c.memo[n] = out
	}
	return out
}

// grow adds v's expanded size to a running total of its parent and fails
// the file as soon as the parent would be too big.
func (c *converter) grow(total *int64, v *node, line int) bool {
	*total = addCount(*total, addCount(1, v.count))
	if *total > c.maxNodes {
		c.fatal(line, "the parsed YAML is too big: it expands to more than %d values (anchors and aliases are counted each time they are used; limit %s, %s)", c.maxNodes, limits.YAMLNodes, limits.Raise(limits.YAMLNodes, c.maxNodes))
	}
	return !c.failed
}

func (c *converter) alias(n *yaml.Node, depth int) *node {
	t := n.Alias
	line := c.line(n)
	if t == nil {
		c.fatal(line, "invalid YAML: alias *%s has no anchor", n.Value)
		return newNull(c.src, line)
	}
	if c.active[t] {
		c.fatal(line, "invalid YAML: alias *%s is used inside the node it names (a recursive alias)", n.Value)
		return newNull(c.src, line)
	}
	if m, ok := c.memo[t]; ok {
		if depth+int(m.depth)-1 > c.maxDepth {
			c.fatal(line, "the parsed YAML is nested more than %d levels deep (%s)", c.maxDepth, limits.FixedNote(limits.YAMLDepth))
		}
		return m
	}
	return c.convert(t, depth)
}

func (c *converter) checkTag(n *yaml.Node, line int, std string) {
	if n.Style&yaml.TaggedStyle == 0 || n.Tag == std {
		return
	}
	switch n.Tag {
	case "!!map", "!!seq", "!!omap", "!!set", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!!merge":
		return
	}
	c.report(diag.Warning, line, "remove the tag; GitLab's YAML loader only accepts !reference",
		"YAML tag %s is not one GitLab knows; tokenscope ignores it", n.Tag)
}

func styleOf(s yaml.Style) style {
	switch {
	case s&yaml.LiteralStyle != 0:
		return sLiteral
	case s&yaml.FoldedStyle != 0:
		return sFolded
	case s&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		return sQuoted
	}
	return sPlain
}

// scalar types a scalar as Psych's ToRuby#deserialize does: quoted and
// block scalars are strings; explicit tags pick the type; plain scalars go
// through the YAML 1.1 resolver.
func (c *converter) scalar(n *yaml.Node, line int) *node {
	st := styleOf(n.Style)
	if n.Tag == "!reference" {
		// Not a sequence: kept as an invalid reference, reported when resolved.
		r := &node{kind: kRef, src: c.src, line: int32(line), str: n.Value}
		r.finish()
		return r
	}
	explicit := n.Style&yaml.TaggedStyle != 0
	var res plainResult
	switch {
	case explicit && n.Tag == "!!str":
		res = str(n.Value)
	case explicit && n.Tag == "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err != nil {
			res = str(n.Value)
		} else {
			res = str(string(b))
		}
	case explicit && n.Tag == "!!float":
		res = resolvePlain(n.Value)
		if res.typ == tInt {
			f, _ := strconv.ParseFloat(res.str, 64)
			res = plainResult{typ: tFloat, str: rubyFloat(f)}
		}
	case explicit:
		c.checkTag(n, line, "")
		res = resolvePlain(n.Value)
	case st != sPlain:
		res = str(n.Value)
	default:
		res = resolvePlain(n.Value)
	}
	if res.disallowed != "" {
		c.report(diag.Error, line, "quote the value",
			"`%s` is a YAML %s, which GitLab refuses to load (Tried to load unspecified class: %s)", n.Value, strings.ToLower(res.disallowed), res.disallowed)
	}
	if res.null {
		return newNull(c.src, line)
	}
	out := c.alloc()
	*out = node{kind: kScalar, typ: res.typ, style: st, src: c.src, line: int32(line), str: res.str, count: 1, depth: 1}
	if (st == sPlain || st == sQuoted) && (strings.Contains(out.str, "\n") || c.spansLines(n)) {
		out.multiline = true
	}
	return out
}

// spansLines reports whether a plain or quoted scalar continues past the
// line it starts on. yaml.v3 gives only the start, so look at the text: a
// one-line plain scalar appears verbatim from its column; a quoted one
// closes on its line.
func (c *converter) spansLines(n *yaml.Node) bool {
	rest, ok := c.restOfLine(n.Line, n.Column)
	if !ok {
		return false
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return false
			}
		}
		return true
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return false
			}
		}
		return true
	}
	return !strings.HasPrefix(rest, n.Value)
}

// restOfLine returns the text of the parsed piece from (line, column),
// both 1-based, columns counted in characters as yaml.v3 counts them.
func (c *converter) restOfLine(line, col int) (string, bool) {
	if c.lineStarts == nil {
		c.lineStarts = []int{0}
		for i := 0; i < len(c.text); i++ {
			if c.text[i] == '\n' {
				c.lineStarts = append(c.lineStarts, i+1)
			}
		}
	}
	if line < 1 || line > len(c.lineStarts) || col < 1 {
		return "", false
	}
	s := c.text[c.lineStarts[line-1]:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for k := 1; k < col; k++ {
		_, size := utf8.DecodeRuneInString(s)
		if size == 0 {
			return "", false
		}
		s = s[size:]
	}
	return strings.TrimSuffix(s, "\r"), true
}

// mapping builds a map with Psych's revive_hash: pairs are applied in
// order, a later duplicate key replaces the earlier value, and a merge key
// `<<` merges its mapping (or list of mappings, the earlier winning) over
// whatever keys came before it, so keys written before `<<` lose and keys
// after it win.
func (c *converter) mapping(n *yaml.Node, line, depth int) *node {
	mb := newMapBuilder(len(n.Content) / 2)
	// explicit[i] is the line where pair i was written in this mapping, 0
	// when it came from a merge key.
	var explicit []int32
	var total int64 // expanded size so far, to stop early
	for i := 0; i+1 < len(n.Content) && !c.failed; i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		kline := c.line(kn)
		val := c.convert(vn, depth+1)
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" && !(kn.Style&yaml.TaggedStyle != 0 && kn.Tag == "!!str") {
			if c.merge(mb, val, vn) {
				continue
			}
		}
		key, ok := c.key(kn, depth)
		if !ok {
			continue
		}
		for len(explicit) < len(mb.pairs) {
			explicit = append(explicit, 0)
		}
		if i := mb.find(key); i >= 0 && explicit[i] != 0 {
			c.report(diag.Warning, kline, "remove one of them",
				"duplicate key `%s` (first on line %d): GitLab keeps only this last value", key, explicit[i])
		}
		i := mb.set(pair{key: key, src: c.src, line: int32(kline), val: val})
		for len(explicit) <= i {
			explicit = append(explicit, 0)
		}
		explicit[i] = int32(kline)
		c.step(kline)
		c.grow(&total, val, kline)
	}
	return mb.build(c.src, line)
}

// merge applies a `<<` value; it returns false when Psych would keep `<<`
// as an ordinary key (the value is not a mapping or a list of mappings).
func (c *converter) merge(mb *mapBuilder, val *node, vn *yaml.Node) bool {
	switch {
	case val.kind == kMap && (vn.Kind == yaml.AliasNode || vn.Kind == yaml.MappingNode):
		if len(mb.pairs) == 0 {
			// Copying is work too: charge every key, or a chain of merges
			// of growing mappings would be quadratic.
			mb.from(val)
			c.work += int64(len(val.pairs))
			return c.step(int(val.line))
		}
		for _, p := range val.pairs {
			mb.set(p)
			if !c.step(int(p.line)) {
				return true
			}
		}
		return true
	case val.kind == kSeq && vn.Kind == yaml.SequenceNode:
		for _, it := range val.items {
			if it.kind != kMap {
				return false
			}
		}
		h := newMapBuilder(0)
		for i := len(val.items) - 1; i >= 0; i-- {
			for _, p := range val.items[i].pairs {
				h.set(p)
				if !c.step(int(p.line)) {
					return true
				}
			}
		}
		for _, p := range h.pairs {
			mb.set(p)
		}
		return true
	}
	return false
}

// key converts a mapping key: Psych types it like any scalar, and GitLab
// sees its to_s.
func (c *converter) key(kn *yaml.Node, depth int) (string, bool) {
	line := c.line(kn)
	if kn.Kind == yaml.AliasNode && kn.Alias != nil {
		kn = kn.Alias
	}
	if kn.Kind != yaml.ScalarNode {
		c.report(diag.Warning, line, "use a plain name as the key", "a mapping key that is a list or mapping is not valid in GitLab CI; tokenscope ignores this entry")
		return "", false
	}
	if kn.Style&yaml.TaggedStyle == 0 && kn.Tag != "!reference" {
		// The common case, without building a node.
		if styleOf(kn.Style) != sPlain {
			return kn.Value, true
		}
		res := resolvePlain(kn.Value)
		if res.disallowed == "" {
			return res.str, true // "" for a null key
		}
	}
	k := c.scalar(kn, line)
	_ = depth
	if k.kind == kNull {
		return "", true
	}
	return k.str, true
}
