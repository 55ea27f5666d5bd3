package ciconfig

import (
	"regexp"
	"slices"
)

// reVarRef is ExpandVariables::VARIABLES_REGEXP: $VAR, ${VAR} and %VAR%.
var reVarRef = regexp.MustCompile(`\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|%([a-zA-Z_][a-zA-Z0-9_]*)%`)

// expandVars expands variable references in s from vars, the way GitLab
// expands include: values and the expand_vars input function. References to
// variables not in vars stay as written (GitLab would see project or group
// variables tokenscope cannot); their names are returned, sorted.
func expandVars(s string, vars map[string]string) (string, []string) {
	if !containsAny(s, "$%") {
		return s, nil
	}
	var unknown []string
	out := reVarRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := reVarRef.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		if !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
		return m
	})
	slices.Sort(unknown)
	return out, unknown
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}
