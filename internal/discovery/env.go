package discovery

import (
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// JobEnv builds the environment a job's shell starts with: predefined
// variables, then the job's YAML variables, then the variant's. GitLab
// expands references inside variable values before the job starts
// (nested expansion); values with expand: false stay raw, and a reference
// to an undefined variable stays as written.
func JobEnv(predefined map[string]string, vars, variant []ciconfig.Variable) shell.MapEnv {
	defs := map[string]ciconfig.Variable{}
	for _, v := range vars {
		defs[v.Name] = v
	}
	for _, v := range variant {
		defs[v.Name] = v
	}
	env := make(shell.MapEnv, len(predefined)+len(defs))
	for k, v := range predefined {
		env[k] = v
	}
	// resolving marks names being expanded, to cut reference cycles.
	resolving := map[string]bool{}
	resolved := map[string]bool{}
	var resolve func(name string) (string, bool)
	lookup := lookupFunc(func(name string) (string, bool) { return resolve(name) })
	resolve = func(name string) (string, bool) {
		d, ok := defs[name]
		if !ok {
			v, ok := predefined[name]
			return v, ok
		}
		if resolved[name] {
			return env[name], true
		}
		if resolving[name] || d.Raw {
			return d.Value, true
		}
		resolving[name] = true
		w := shell.ExpandVars(d.Value, lookup)
		resolving[name] = false
		resolved[name] = true
		env[name] = w.Value
		return w.Value, true
	}
	for name := range defs {
		resolve(name)
	}
	return env
}

type lookupFunc func(string) (string, bool)

func (f lookupFunc) Get(name string) (string, bool) { return f(name) }
