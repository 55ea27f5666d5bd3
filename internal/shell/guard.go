package shell

import (
	"fmt"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// The bash parser (mvdan.cc/sh) is recursive descent: each nested $( ( {
// ${ <( $(( or compound command costs it a few kilobytes of stack, and Go
// aborts the whole process (no recover) when a goroutine's stack passes
// 1 GB. A few hundred thousand unclosed "$(" in one script item, easily
// held in a CI file GitLab accepts, did that. So every text is measured
// before it is parsed: too long or too deeply nested, and it is refused
// with an error that names the limit, like a script file over
// Options.MaxScriptSize.
//
// maxParseNesting (limits.ParseNesting) is far above real scripts (a
// handful of levels) and costs the parser a few megabytes of stack at
// most; it is fixed, since it is what keeps the process alive.
// Options.MaxScriptSize (limits.ScriptSize) bounds the text of one parse,
// inline script items and joined items included, as script files are
// bounded. By default GitLab refuses a CI configuration file whose parsed
// YAML passes 2 MB
// (https://docs.gitlab.com/administration/instance_limits/#maximum-size-and-depth-of-cicd-configuration-yaml-files),
// so a single script item past it is generated or hostile.
const maxParseNesting = 1000

// errParseLimit is returned by parse for a text it refuses.
type errParseLimit struct{ msg string }

func (e errParseLimit) Error() string { return e.msg }

// checkParseLimits reports why text must not be given to the parser, or
// nil.
func checkParseLimits(text string, maxSize int) error {
	if len(text) > maxSize {
		return errParseLimit{fmt.Sprintf("script is %d bytes, more than the limit of %d bytes: not analysed (limit %s; %s)", len(text), maxSize, limits.ScriptSize, limits.Raise(limits.ScriptSize, int64(len(text))))}
	}
	if d := nestingDepth(text); d > maxParseNesting {
		return errParseLimit{fmt.Sprintf("script nests parentheses, braces, substitutions or compound commands more than %d levels deep: not analysed (%s)", maxParseNesting, limits.FixedNote(limits.ParseNesting))}
	}
	return nil
}

// nestingDepth estimates, in one pass, how deep the parser would recurse
// on text: the most openers ( { [ $( ${ ` " and if/while/until/for/
// case/select keywords open at one point. Comments and single-quoted
// text are skipped; a closer only closes its own kind of opener, and a
// stray one is ignored. Quoted or here-document brackets can make the
// estimate high, never low on what the parser itself nests; it returns
// early once past maxParseNesting.
func nestingDepth(text string) int {
	stack := make([]byte, 0, 16)
	deepest := 0
	push := func(k byte) {
		stack = append(stack, k)
		deepest = max(deepest, len(stack))
	}
	top := func() byte {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1]
	}
	pop := func(k byte) {
		if top() == k {
			stack = stack[:len(stack)-1]
		}
	}
	wordStart := true // at the start of a word (for # and keywords)
	for i := 0; i < len(text) && deepest <= maxParseNesting; i++ {
		c := text[i]
		if top() == '"' {
			switch {
			case c == '\\':
				i++
			case c == '"':
				pop('"')
			case c == '`':
				push('`')
			case c == '$' && i+1 < len(text) && (text[i+1] == '(' || text[i+1] == '{'):
				push(text[i+1])
				i++
			}
			continue
		}
		switch {
		case c == '\\':
			i++
		case c == '#' && wordStart:
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '\'':
			for i++; i < len(text) && text[i] != '\''; i++ {
			}
		case c == '"':
			push('"')
		case c == '`':
			if top() == '`' {
				pop('`')
			} else {
				push('`')
			}
		case c == '(' || c == '{' || c == '[':
			push(c)
		case c == ')':
			pop('(')
		case c == '}':
			pop('{')
		case c == ']':
			pop('[')
		case wordStart && isWordByte(c):
			j := i
			for j < len(text) && isWordByte(text[j]) {
				j++
			}
			switch text[i:j] {
			case "if", "while", "until", "for", "case", "select":
				push('k')
			case "fi", "done", "esac":
				pop('k')
			}
			i = j - 1
		}
		if i < len(text) {
			c = text[i] // the last byte taken: a skipped comment ends at its newline
		}
		wordStart = c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '{' || c == '}' || c == '`'
	}
	return deepest
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
