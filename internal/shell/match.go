package shell

import (
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/pattern"
)

// maxQuadratic bounds the values on which shortest/longest pattern
// removal tries every split point; longer values use one regexp search.
const maxQuadratic = 512

// maxRegexps bounds the compiled patterns cached per Analyze.
const maxRegexps = 256

// regexp compiles a shell pattern, caching the result; nil when the
// pattern is not valid.
func (a *analyzer) regexp(pat string, mode pattern.Mode, prefix, suffix string, longest bool) *regexp.Regexp {
	key := string(rune('0'+mode)) + prefix + "\x00" + pat + "\x00" + suffix
	if longest {
		key = "L" + key
	}
	if rx, ok := a.rx[key]; ok {
		return rx
	}
	expr, err := pattern.Regexp(pat, mode)
	var rx *regexp.Regexp
	if err == nil {
		rx, err = regexp.Compile(prefix + "(?:" + expr + ")" + suffix)
		if err == nil && longest {
			rx.Longest()
		}
	}
	if a.rx == nil {
		a.rx = map[string]*regexp.Regexp{}
	}
	if len(a.rx) < maxRegexps {
		a.rx[key] = rx
	}
	return rx
}

func hasMeta(pat string) bool {
	return strings.ContainsAny(pat, "*?[\\") || strings.Contains(pat, "(")
}

// removePattern implements ${V#p} ${V##p} ${V%p} ${V%%p}.
func (a *analyzer) removePattern(s, pat string, suffix, longest bool) string {
	if pat == "" {
		return s
	}
	if !hasMeta(pat) {
		if suffix {
			return strings.TrimSuffix(s, pat)
		}
		return strings.TrimPrefix(s, pat)
	}
	if len(s) > maxQuadratic {
		return a.removeLong(s, pat, suffix)
	}
	rx := a.regexp(pat, pattern.EntireString, "", "", false)
	if rx == nil {
		return s
	}
	// Split points on rune boundaries, in the order to try them.
	cuts := make([]int, 0, len(s)+1)
	for i := range s {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(s))
	try := func(i int) bool {
		if suffix {
			return rx.MatchString(s[i:])
		}
		return rx.MatchString(s[:i])
	}
	// Prefix: shortest tries small i first. Suffix: shortest tries
	// large i first.
	forward := suffix == longest
	for k := range cuts {
		i := cuts[k]
		if !forward {
			i = cuts[len(cuts)-1-k]
		}
		if try(i) {
			if suffix {
				return s[:i]
			}
			return s[i:]
		}
	}
	return s
}

// removeLong removes the longest match at the start or end of a long
// value with one regexp search.
func (a *analyzer) removeLong(s, pat string, suffix bool) string {
	if suffix {
		rx := a.regexp(pat, 0, "", "$", false)
		if rx == nil {
			return s
		}
		if loc := rx.FindStringIndex(s); loc != nil {
			return s[:loc[0]]
		}
		return s
	}
	rx := a.regexp(pat, 0, "^", "", true)
	if rx == nil {
		return s
	}
	if loc := rx.FindStringIndex(s); loc != nil {
		return s[loc[1]:]
	}
	return s
}

// replacePattern implements ${V/p/s} (first match, longest at the
// leftmost place), ${V//p/s} (all), ${V/#p/s} and ${V/%p/s}.
func (a *analyzer) replacePattern(s, pat, with string, all bool, anchor byte) string {
	if pat == "" && anchor == 0 {
		return s
	}
	if !hasMeta(pat) {
		switch anchor {
		case '#':
			if strings.HasPrefix(s, pat) {
				return with + s[len(pat):]
			}
			return s
		case '%':
			if strings.HasSuffix(s, pat) {
				return s[:len(s)-len(pat)] + with
			}
			return s
		}
		n := 1
		if all {
			n = -1
		}
		return strings.Replace(s, pat, with, n)
	}
	prefix, suffix := "", ""
	switch anchor {
	case '#':
		prefix = "^"
	case '%':
		suffix = "$"
	}
	rx := a.regexp(pat, 0, prefix, suffix, true)
	if rx == nil {
		return s
	}
	if all {
		return rx.ReplaceAllLiteralString(s, with)
	}
	loc := rx.FindStringIndex(s)
	if loc == nil || loc[0] == loc[1] {
		return s // an empty match replaces nothing in bash
	}
	return s[:loc[0]] + with + s[loc[1]:]
}
