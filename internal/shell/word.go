package shell

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ExpandWord expands text as the shell expands the inside of a
// double-quoted word ("...$X...${Y:-d}...$((N+1))..."), with env and the
// rules Analyze follows: parameter and arithmetic expansion and the
// backslash escapes of double quotes apply; a '"' in text is an ordinary
// character, and there is no field splitting or globbing. It is for a
// word seen without the script around it, such as a URL in a command the
// runner echoed into a job log.
//
// A variable env does not hold stays "${NAME}" in Value and is listed in
// Unknown. Raw is text. ok is false, and the word is text unexpanded, when
// text is not one word ("$@" gives none; a \" closes the quotes and a
// trailing backslash escapes them, so what follows is more syntax or
// nothing) or when expanding it runs commands: ExpandWord returns no
// commands, so a command substitution that runs one is left to Analyze
// rather than dropped from sight.
func ExpandWord(text string, env Env) (w Word, ok bool) {
	unexpanded := Word{Raw: text, Value: text}
	defer func() {
		// As in Analyze: text from a log must never stop the caller.
		if r := recover(); r != nil {
			if repanic {
				panic(r)
			}
			w, ok = unexpanded, false
		}
	}()
	quoted := `"` + strings.ReplaceAll(text, `"`, `\"`) + `"`
	p := parsers.Get().(*syntax.Parser)
	defer parsers.Put(p)
	var words []*syntax.Word
	for word, err := range p.WordsSeq(strings.NewReader(quoted)) {
		if err != nil {
			return unexpanded, false
		}
		if words = append(words, word); len(words) > 1 {
			break
		}
	}
	if len(words) != 1 {
		return unexpanded, false
	}
	a := &analyzer{opts: Options{}.withDefaults(), parser: p}
	a.project = projectOf(env, nil)
	st := &shState{env: newRoot(env), cwdOK: true}
	ctx := &srcCtx{text: quoted, line: 1, step: 1}
	fields := a.expander(st, ctx).fields(words[0])
	if len(fields) != 1 || len(a.cmds) > 0 {
		return unexpanded, false
	}
	w = fields[0]
	w.Raw = text
	return w, true
}
