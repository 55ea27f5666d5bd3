package detect

import (
	"regexp"
	"sort"
	"strings"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// Variables: what a command sees, and where the job set a variable.

// envOf is the environment command c runs with; for c nil, the job's
// environment before its scripts run. Never nil.
func (in *Input) envOf(c *shell.Command) shell.Env {
	if c != nil && c.Env != nil {
		return c.Env
	}
	if in.Env != nil {
		return in.Env
	}
	return shell.MapEnv{}
}

// getenv returns a variable as command c sees it (c nil: at the job's
// start), and whether it is set.
func (in *Input) getenv(c *shell.Command, name string) (string, bool) {
	return in.envOf(c).Get(name)
}

// envValue is a variable's value as command c sees it, "" when unset.
func (in *Input) envValue(c *shell.Command, name string) string {
	v, _ := in.getenv(c, name)
	return v
}

// yamlVar returns the YAML variable name in effect for the job (the
// variant's value wins), with its position.
func (in *Input) yamlVar(name string) (ciconfig.Variable, bool) {
	if in.Job == nil {
		return ciconfig.Variable{}, false
	}
	if in.YAMLRead != nil {
		in.YAMLRead(name)
	}
	if in.Variant != "" {
		for _, vr := range in.Job.Variants {
			if vr.Name != in.Variant {
				continue
			}
			for _, v := range vr.Variables {
				if v.Name == name {
					return v, true
				}
			}
		}
	}
	for _, v := range in.Job.Variables {
		if v.Name == name {
			return v, true
		}
	}
	return ciconfig.Variable{}, false
}

// setting is where a variable a tool reads got its value: a YAML variable,
// an export (or prefix assignment) in the script.
type setting struct {
	Name  string
	Value string // expanded
	Cmd   *shell.Command
	Var   *ciconfig.Variable
}

// site is where the setting was made, for evidence.
func (s setting) site() site {
	if s.Cmd != nil {
		return cmdSite(s.Cmd)
	}
	return yamlSite(s.Var.Pos)
}

// origin finds where the variable name seen by command c (nil: the job's
// start) was set: a prefix assignment of c, the last export before c, or a
// YAML variable. ok is false for predefined or unset variables.
func (in *Input) origin(c *shell.Command, name string) (setting, bool) {
	val, set := in.getenv(c, name)
	if !set {
		return setting{}, false
	}
	if c != nil {
		if w, ok := c.Assigns[name]; ok {
			return setting{Name: name, Value: w.Value, Cmd: c}, true
		}
		var found *shell.Command
		for _, x := range in.Commands {
			if x == c {
				break
			}
			if exportsVar(x, name) {
				found = x
			}
		}
		if found != nil {
			return setting{Name: name, Value: val, Cmd: found}, true
		}
	}
	if v, ok := in.yamlVar(name); ok {
		return setting{Name: name, Value: val, Var: &v}, true
	}
	return setting{}, false
}

// exportsVar reports whether c is "export NAME=..." (or declare, typeset,
// readonly with an assignment).
func exportsVar(c *shell.Command, name string) bool {
	if len(c.Args) == 0 {
		return false
	}
	n := cmdBase(c.Args[0].Value)
	if n != "export" && n != "declare" && n != "typeset" && n != "readonly" {
		return false
	}
	for _, a := range c.Args[1:] {
		if k, _, ok := strings.Cut(a.Value, "="); ok && k == name {
			return true
		}
	}
	return false
}

// settings returns every place the job sets a variable whose name matches:
// YAML variables first (in name order), then exports and prefix
// assignments in run order. Values are expanded.
func (in *Input) settings(match func(name string) bool) []setting {
	var out []setting
	if in.Job != nil {
		seen := map[string]bool{}
		add := func(vs []ciconfig.Variable) {
			for i := range vs {
				v := vs[i]
				if !match(v.Name) || seen[v.Name] {
					continue
				}
				seen[v.Name] = true
				if in.YAMLRead != nil {
					in.YAMLRead(v.Name)
				}
				val := v.Value
				if x, ok := in.getenv(nil, v.Name); ok {
					val = x
				}
				out = append(out, setting{Name: v.Name, Value: val, Var: &v})
			}
		}
		if in.Variant != "" {
			for _, vr := range in.Job.Variants {
				if vr.Name == in.Variant {
					add(vr.Variables)
				}
			}
		}
		add(in.Job.Variables)
	}
	for _, c := range in.Commands {
		ws := argv(c)
		if n := nameOf(c, ws); n == "export" || n == "declare" || n == "typeset" {
			for _, a := range ws[1:] {
				if k, v, ok := strings.Cut(a.Value, "="); ok && match(k) {
					out = append(out, setting{Name: k, Value: v, Cmd: c})
				}
			}
		}
		keys := make([]string, 0, len(c.Assigns))
		for k := range c.Assigns {
			if match(k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, setting{Name: k, Value: c.Assigns[k].Value, Cmd: c})
		}
	}
	return out
}

// buildArgs returns the --build-arg NAME=VALUE settings of image builds
// (docker/podman build, buildx, buildah, kaniko) whose name matches: a
// value forwarded into a Dockerfile is used there (P17, P39).
func (in *Input) buildArgs(match func(name string) bool) []setting {
	var out []setting
	for _, c := range in.Commands {
		ws := argv(c)
		switch nameOf(c, ws) {
		case "docker", "podman", "buildah", "executor", "nerdctl", "img":
		default:
			continue
		}
		for i := 1; i < len(ws); i++ {
			v := ws[i].Value
			var kv string
			switch {
			case v == "--build-arg" && i+1 < len(ws):
				i++
				kv = ws[i].Value
			case strings.HasPrefix(v, "--build-arg="):
				kv = strings.TrimPrefix(v, "--build-arg=")
			default:
				continue
			}
			if k, val, ok := strings.Cut(kv, "="); ok && match(k) {
				out = append(out, setting{Name: k, Value: val, Cmd: c})
			}
		}
	}
	return out
}

// expandBraced expands "${NAME}" references the way npm (.npmrc), yarn
// (.yarnrc.yml) and pip (requirements files) do at run time: only the
// braced form, unknown names left as written.
func expandBraced(s string, env shell.Env) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return bracedRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := env.Get(name); ok {
			return v
		}
		return m
	})
}

var bracedRE = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)
