package detect

// RUN lines of a build that receives the job token (P39), replayed as
// shell for the git and registry accesses inside the build.

import (
	"encoding/json"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
)

// analyseRuns runs the RUN lines of the needed stages through the shell
// layer, with each stage's ARG and ENV values as environment, and reports
// git and registry accesses inside the build. Files written by one RUN
// (~/.netrc, git config --global) persist for the later ones of the stage.
func (st *jobState) analyseRuns(out *Output, fsite site, df dockerfile, stages []dfStage, needed []int, buildArgs map[string]shell.Word) {
	in := st.in
	global := map[string]string{}
	for _, ins := range df.instrs {
		if ins.cmd == "FROM" {
			break
		}
		if ins.cmd == "ARG" {
			for _, kv := range argDecls(ins.args) {
				if kv[1] != "\x00" {
					global[kv[0]] = dfExpand(kv[1], global)
				}
			}
		}
	}
	for _, si := range needed {
		s := stages[si]
		env := shell.MapEnv{"HOME": "/root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		// Inside a build, a job-token variable that no ARG declares is
		// empty, not an unexpanded reference.
		for _, name := range inventory.JobTokenVariables {
			env[name] = ""
		}
		var cmds []*shell.Command
		for _, ins := range df.instrs[s.first:s.last] {
			switch ins.cmd {
			case "ARG":
				for _, kv := range argDecls(ins.args) {
					switch v, ok := buildArgs[kv[0]]; {
					case ok:
						env[kv[0]] = v.Value
					case kv[1] != "\x00":
						env[kv[0]] = dfExpand(kv[1], env)
					default:
						if g, ok := global[kv[0]]; ok {
							env[kv[0]] = g
						}
					}
				}
			case "ENV":
				for k, v := range envDecls(ins.args) {
					env[k] = dfExpand(v, env)
				}
			case "RUN":
				snapshot := make(shell.MapEnv, len(env))
				for k, v := range env {
					snapshot[k] = v
				}
				script := runScript(ins)
				project := fsite.project
				if project == "" {
					project = in.Caller.Path
				}
				r := shell.Analyze([]shell.Source{{Text: script, Pos: loc.Pos{Project: project, File: fsite.file, Line: ins.line}, LineStep: 1, Section: fsite.file}}, snapshot, shell.Options{})
				cmds = append(cmds, r.Commands...)
			}
		}
		if len(cmds) == 0 {
			continue
		}
		sub := *in
		sub.Commands, sub.Env = cmds, shell.MapEnv{"HOME": "/root"}
		goSeen := map[string]bool{}
		notes := walkJob(&sub, func(c *shell.Command, st *jobState) {
			st.gitUses(out, c, goSeen)
			st.registryUses(out, c)
		})
		keepNotes(out, notes, "")
		buildRunUses(&sub, out) // buildargs.go
	}
}

// runScript is the shell text of a RUN: the exec form's "sh -c" script or
// its words, or the shell form without its --flags.
func runScript(ins dfInstr) string {
	args := stripRunFlags(ins.args)
	if strings.HasPrefix(args, "[") {
		var words []string
		if json.Unmarshal([]byte(args), &words) == nil {
			if len(words) >= 3 && (words[1] == "-c" || words[1] == "-lc") {
				return words[2]
			}
			return strings.Join(words, " ")
		}
	}
	script := ins.script
	for strings.HasPrefix(script, "--") {
		_, rest, _ := strings.Cut(script, " ")
		script = strings.TrimLeft(rest, " ")
	}
	return script
}

// envDecls parses "ENV A=1 B=2" and the legacy "ENV A 1".
func envDecls(s string) map[string]string {
	out := map[string]string{}
	toks := splitQuoted(s)
	if len(toks) >= 2 && !strings.Contains(toks[0], "=") {
		_, rest, _ := strings.Cut(s, " ")
		out[toks[0]] = strings.TrimSpace(rest)
		return out
	}
	for _, t := range toks {
		if k, v, ok := strings.Cut(t, "="); ok {
			out[k] = unquote(v)
		}
	}
	return out
}
