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
	e := newVarEnv(predefined, sortedVars(vars), variant)
	env := make(shell.MapEnv, len(predefined)+len(vars)+len(variant))
	for k, v := range predefined {
		env[k] = v
	}
	for _, vs := range [][]ciconfig.Variable{vars, variant} {
		for _, v := range vs {
			env[v.Name], _ = e.resolve(v.Name)
		}
	}
	return env
}

type lookupFunc func(string) (string, bool)

func (f lookupFunc) Get(name string) (string, bool) { return f(name) }
