package ciconfig

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// spec:inputs and $[[ ... ]] interpolation, after GitLab's
// lib/gitlab/ci/config/interpolation/{interpolator,inputs,block,access,
// functions/*}.rb (https://docs.gitlab.com/ci/inputs/). Interpolation works on the
// parsed tree (GitLab's Interpolator), which keeps every line number, and
// happens per include entry, before the file is merged.

const (
	maxFunctions   = 3      // Block::MAX_FUNCTIONS
	maxBlocks      = 10_000 // Template::MAX_BLOCKS
	maxAccessObj   = 5      // Access::MAX_ACCESS_OBJECTS
	maxAccessBytes = 1024   // Access::MAX_ACCESS_BYTESIZE
	// Limits.MaxInterpolatedBytes (limits.InterpolatedBytes, 8 MiB by
	// default) bounds the text interpolation writes into one file. Each block is limited, but not the number of times a block
	// repeats a long input: 9,000 blocks naming a 100 KB default (a 340 KB
	// file, well under GitLab's limits) made 3 GB. GitLab bounds the
	// parsed size of a configuration file (2 MB by default,
	// https://docs.gitlab.com/administration/instance_limits/#maximum-size-and-depth-of-cicd-configuration-yaml-files),
	// so content four times that is refused as GitLab would refuse it.
	msgInterpTooLarge = "interpolation makes the file larger than"
	blockPrefix       = "$[["
	inputsNotInSpec   = "Given inputs not defined in the `spec` section of the included configuration file"
)

var (
	reBlock    = regexp.MustCompile(`\$\[\[\s*(.*?)\s*\]\]`)
	reTruncate = regexp.MustCompile(`^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)
)

// componentCtx is the $[[ component.* ]] context of a component include.
type componentCtx struct {
	name, version, reference, sha string
}

// interpolation evaluates one file's blocks.
type interpolation struct {
	inputs   map[string]*node
	comp     *componentCtx
	vars     map[string]string
	usedVars bool // expand_vars ran: the result depends on the project
	errs     []string
	blocks   int
	bytes    int // text written by interpolation so far (maxBytes)
	maxBytes int // Limits.MaxInterpolatedBytes
	memo     map[*node]*node
}

// interpolate validates the include's inputs against the file's spec header
// and substitutes them into the content. It returns the errors GitLab would
// report; the content is unusable when there are any.
func interpolate(p *parsed, args *node, comp *componentCtx, vars map[string]string, maxBytes int64) (content *node, usedVars bool, errs []string) {
	hasArgs := args.isMap() && len(args.pairs) > 0
	if p.header == nil {
		if hasArgs {
			return nil, false, []string{inputsNotInSpec}
		}
		return p.content, false, nil
	}
	in := &interpolation{comp: comp, vars: vars, maxBytes: int(limits.Or(maxBytes, limits.InterpolatedBytes))}
	in.inputs = in.validateInputs(p.header, args)
	if len(in.errs) > 0 {
		return nil, false, in.errs
	}
	if p.content == nil {
		return nil, false, nil
	}
	out := in.walk(p.content)
	if len(in.errs) > 0 {
		return nil, in.usedVars, in.errs
	}
	return out, in.usedVars, nil
}

func (in *interpolation) errorf(format string, args ...any) {
	if len(in.errs) < 3 { // GitLab joins at most three messages
		in.errs = append(in.errs, fmt.Sprintf(format, args...))
	}
}

// validateInputs is Interpolation::Inputs: every spec entry gets the given
// value or its default, checked for type, options and regex.
func (in *interpolation) validateInputs(header, args *node) map[string]*node {
	if !header.isMap() {
		in.errorf("header:spec config should be a hash")
		return nil
	}
	for _, p := range header.pairs {
		if p.key != "spec" {
			in.errorf("header config contains unknown keys: %s", p.key)
		}
	}
	spec := header.get("spec")
	inputs := spec.get("inputs")
	if spec != nil && !spec.isNull() && !spec.isMap() {
		in.errorf("header:spec config should be a hash")
		return nil
	}
	if inputs != nil && !inputs.isNull() && !inputs.isMap() {
		in.errorf("header:spec:inputs config should be a hash")
		return nil
	}
	if args.isMap() {
		var unknown []string
		for _, a := range args.pairs {
			if _, ok := inputs.lookup(a.key); !ok {
				unknown = append(unknown, a.key)
			}
		}
		if len(unknown) > 0 {
			in.errorf("unknown input arguments: %s", strings.Join(unknown, ", "))
		}
	}
	values := map[string]*node{}
	if !inputs.isMap() {
		return values
	}
	for _, sp := range inputs.pairs {
		name, def := sp.key, sp.val
		if def != nil && !def.isNull() && !def.isMap() {
			in.errorf("header:spec:inputs:%s config should be a hash", name)
			continue
		}
		typ := "string"
		if t := def.get("type"); t != nil && !t.isNull() {
			typ = t.str
		}
		if !slices.Contains([]string{"string", "number", "boolean", "array"}, typ) {
			in.errorf("header:spec:inputs:%s input type unknown value: %s", name, typ)
			continue
		}
		var given *node
		if args.isMap() {
			if g := args.get(name); g != nil && !g.isNull() {
				given = g
			}
		}
		dp, hasDefault := def.lookup("default")
		if !hasDefault && given == nil {
			in.errorf("`%s` input: required value has not been provided", name)
			continue
		}
		if hasDefault && !isInputType(dp.val, typ) {
			in.errorf("`%s` input: default value is not a%s %s", name, article(typ), typ)
			continue
		}
		actual := given
		if actual == nil {
			actual = dp.val
		}
		if !isInputType(actual, typ) {
			in.errorf("`%s` input: provided value is not a%s %s", name, article(typ), typ)
			continue
		}
		if opts := def.get("options"); opts.isSeq() && !actual.isNull() {
			if !slices.ContainsFunc(opts.items, func(o *node) bool { return sameScalar(o, actual) }) {
				in.errorf("`%s` input: `%s` cannot be used because it is not in the list of allowed options", name, actual.str)
				continue
			}
		}
		if rx := def.get("regex"); rx.isString() && typ == "string" && !actual.isNull() {
			re, err := regexp.Compile(rx.str)
			switch {
			case err != nil:
				in.errorf("`%s` input: invalid regular expression", name)
				continue
			case !re.MatchString(actual.str) && given == nil:
				in.errorf("`%s` input: default value does not match required RegEx pattern", name)
				continue
			case !re.MatchString(actual.str):
				in.errorf("`%s` input: provided value does not match required RegEx pattern", name)
				continue
			}
		}
		values[name] = actual
	}
	return values
}

func article(typ string) string {
	if typ == "array" {
		return "n"
	}
	return ""
}

func isInputType(n *node, typ string) bool {
	if n.isNull() {
		return typ == "string" // a nil default is a valid (empty) string
	}
	switch typ {
	case "string":
		return n.kind == kScalar && n.typ == tStr
	case "number":
		return n.kind == kScalar && (n.typ == tInt || n.typ == tFloat)
	case "boolean":
		return n.kind == kScalar && n.typ == tBool
	case "array":
		return n.kind == kSeq
	}
	return false
}

func sameScalar(a, b *node) bool {
	return a != nil && b != nil && a.kind == kScalar && b.kind == kScalar && a.typ == b.typ && a.str == b.str
}

// walk interpolates every string scalar and mapping key of n.
func (in *interpolation) walk(n *node) *node {
	if n == nil || len(in.errs) > 0 {
		return n
	}
	if m, ok := in.memo[n]; ok {
		return m
	}
	out := n
	switch n.kind {
	case kScalar:
		if n.typ == tStr && strings.Contains(n.str, blockPrefix) {
			out = in.scalar(n)
		}
	case kSeq, kRef:
		var items []*node
		for i, it := range n.items {
			w := in.walk(it)
			if w != it && items == nil {
				items = slices.Clone(n.items)
			}
			if items != nil {
				items[i] = w
			}
		}
		if items != nil {
			c := *n
			c.items = items
			c.finish()
			out = &c
		}
	case kMap:
		changed := false
		mb := newMapBuilder(len(n.pairs))
		for _, p := range n.pairs {
			q := p
			q.val = in.walk(p.val)
			if strings.Contains(p.key, blockPrefix) {
				if v, ok := in.text(p.key); ok {
					q.key = v
				}
			}
			changed = changed || q.val != p.val || q.key != p.key
			mb.set(q)
		}
		if changed {
			out = mb.build(n.src, int(n.line))
		}
	}
	if in.memo == nil {
		in.memo = map[*node]*node{}
	}
	in.memo[n] = out
	return out
}

// scalar interpolates one string. A string that is exactly one block takes
// the block's typed value (an array input stays an array); otherwise every
// block is replaced by its text.
func (in *interpolation) scalar(n *node) *node {
	if m := reBlock.FindStringSubmatchIndex(n.str); m != nil && m[0] == 0 && m[1] == len(n.str) {
		v, ok := in.block(n.str[m[2]:m[3]])
		if !ok {
			return n
		}
		if v.kind == kScalar && !in.grow(len(v.str)) {
			return n
		}
		if v.kind == kScalar || v.kind == kNull {
			c := *v
			c.src, c.line, c.style, c.multiline = n.src, n.line, n.style, n.multiline
			if v.kind == kScalar && strings.Contains(v.str, "\n") && n.style != sLiteral {
				c.multiline = true
			}
			return &c
		}
		return v
	}
	s, ok := in.text(n.str)
	if !ok {
		return n
	}
	c := *n
	c.str = s
	if strings.Count(s, "\n") != strings.Count(n.str, "\n") {
		// Inserted newlines break the line-for-line mapping.
		c.multiline = true
		if c.style == sLiteral {
			c.style = sFolded
		}
	}
	return &c
}

// text replaces every block in s with the text of its value.
func (in *interpolation) text(s string) (string, bool) {
	failed := false
	out := reBlock.ReplaceAllStringFunc(s, func(b string) string {
		m := reBlock.FindStringSubmatch(b)
		v, ok := in.block(m[1])
		if !ok {
			failed = true
			return b
		}
		t := textOf(v)
		if !in.grow(len(t)) {
			failed = true
			return b
		}
		return t
	})
	return out, !failed
}

// grow counts n more bytes of interpolated text; past maxBytes it records
// the error and reports false.
func (in *interpolation) grow(n int) bool {
	in.bytes += n
	if in.bytes > in.maxBytes {
		if in.bytes-n <= in.maxBytes {
			in.errorf("%s %d bytes (inputs repeated too often); the file is not used (limit %s; %s)", msgInterpTooLarge, in.maxBytes, limits.InterpolatedBytes, limits.Raise(limits.InterpolatedBytes, int64(in.maxBytes)))
		}
		return false
	}
	return true
}

// textOf is how GitLab's text interpolation renders a non-string value.
func textOf(v *node) string {
	switch v.kind {
	case kScalar:
		return v.str
	case kNull:
		return ""
	}
	b, err := json.Marshal(plain(v))
	if err != nil {
		return ""
	}
	return string(b)
}

// plain converts n to Go values for JSON rendering.
func plain(n *node) any {
	switch n.kind {
	case kScalar:
		if n.typ == tStr {
			return n.str
		}
		return json.RawMessage(n.str)
	case kSeq, kRef:
		out := make([]any, len(n.items))
		for i, it := range n.items {
			out[i] = plain(it)
		}
		return out
	case kMap:
		out := map[string]any{}
		for _, p := range n.pairs {
			out[p.key] = plain(p.val)
		}
		return out
	}
	return nil
}

// block evaluates "<access> | fn | fn".
func (in *interpolation) block(data string) (*node, bool) {
	in.blocks++
	if in.blocks > maxBlocks {
		in.errorf("too many interpolation blocks")
		return nil, false
	}
	parts := strings.Split(data, "|")
	access := strings.TrimSpace(parts[0])
	if strings.HasPrefix(access, "matrix.") {
		// needs:parallel:matrix expressions are evaluated later by GitLab.
		return newScalar(nil, 0, tStr, "$[[ "+data+" ]]", sPlain), true
	}
	v, ok := in.access(access)
	if !ok {
		return nil, false
	}
	fns := parts[1:]
	if len(fns) > maxFunctions {
		in.errorf("too many functions in interpolation block")
		return nil, false
	}
	for _, f := range fns {
		if v, ok = in.function(strings.TrimSpace(f), v); !ok {
			return nil, false
		}
	}
	return v, true
}

func (in *interpolation) access(a string) (*node, bool) {
	if len(a) > maxAccessBytes {
		in.errorf("maximum interpolation expression size exceeded")
		return nil, false
	}
	objs := strings.SplitN(a, ".", maxAccessObj)
	if len(objs) <= 1 {
		in.errorf("invalid interpolation access pattern")
		return nil, false
	}
	var v *node
	switch objs[0] {
	case "inputs":
		v = in.inputs[objs[1]]
		if _, ok := in.inputs[objs[1]]; !ok {
			in.errorf("unknown interpolation key: `%s`", objs[1])
			return nil, false
		}
		if v == nil {
			v = newNull(nil, 0)
		}
	case "component":
		if in.comp == nil {
			in.errorf("unknown interpolation key: `%s`", objs[0])
			return nil, false
		}
		val, ok := map[string]string{"name": in.comp.name, "version": in.comp.version,
			"reference": in.comp.reference, "sha": in.comp.sha}[objs[1]]
		if !ok {
			in.errorf("unknown interpolation key: `%s`", objs[1])
			return nil, false
		}
		v = newScalar(nil, 0, tStr, val, sPlain)
	default:
		in.errorf("unknown interpolation key: `%s`", objs[0])
		return nil, false
	}
	if len(objs) > 2 {
		in.errorf("unknown interpolation key: `%s`", objs[2])
		return nil, false
	}
	return v, true
}

func (in *interpolation) function(expr string, v *node) (*node, bool) {
	name := expr
	if i := strings.IndexByte(expr, '('); i >= 0 {
		name = expr[:i]
	}
	isString := v.kind == kScalar && v.typ == tStr
	switch {
	case expr == "expand_vars", expr == "posix_escape", reTruncate.MatchString(expr):
	default:
		in.errorf("no function matching `%s`: check that the function name, arguments, and types are correct", expr)
		return nil, false
	}
	if !isString {
		in.errorf("error in `%s` function: invalid input type: %s can only be used with string inputs", name, name)
		return nil, false
	}
	var s string
	switch name {
	case "expand_vars":
		in.usedVars = true
		s, _ = expandVars(v.str, in.vars)
	case "posix_escape":
		s = shellEscape(v.str)
	default:
		m := reTruncate.FindStringSubmatch(expr)
		s = rubySlice(v.str, atoiSat(m[1]), atoiSat(m[2]))
	}
	return newScalar(v.src, int(v.line), tStr, s, v.style), true
}

func atoiSat(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return 1 << 30
		}
	}
	return n
}

// rubySlice is String#[offset, length] on characters, then to_s.
func rubySlice(s string, off, length int) string {
	n := utf8.RuneCountInString(s)
	if off >= n {
		return ""
	}
	r := []rune(s)
	end := min(off+length, n)
	return string(r[off:end])
}

// shellEscape is Ruby's Shellwords.escape.
func shellEscape(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n':
			b.WriteString("'\n'")
		case c < utf8.RuneSelf && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("_-.,:+/@", c)):
			b.WriteRune(c)
		default:
			b.WriteByte('\\')
			b.WriteRune(c)
		}
	}
	return b.String()
}
