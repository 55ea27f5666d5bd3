package detect

// Git configuration files the job writes (issue 12 item 5): a
// ~/.gitconfig or $GIT_CONFIG_GLOBAL written by a here-document or echo,
// a file pulled in by include.path or includeIf.<condition>.path. Their
// url.<base>.insteadOf rules and credential helpers give the job token to
// later git commands just as git config --global does. Which files git
// reads: https://git-scm.com/docs/git-config#FILES (the system file, the
// global ~/.gitconfig or $XDG_CONFIG_HOME/git/config, GIT_CONFIG_GLOBAL and
// GIT_CONFIG_SYSTEM naming other files) and #_includes. includeIf
// conditions are not evaluated: CI jobs include files meant to apply
// (over-approximation, documented in docs/design.md).

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// gitFiles is the part of the job state about git configuration files.
type gitFiles struct {
	content  map[string]string // canonical path -> content, for files that look like git configuration
	includes map[string]bool   // canonical paths included by include(If).path
	applied  map[string]bool   // files whose settings are already in jobState.git
}

// maxGitFiles bounds the configuration files followed per job.
const maxGitFiles = 32

func (st *jobState) gitFileState() *gitFiles {
	if st.gitFiles == nil {
		st.gitFiles = &gitFiles{content: map[string]string{}, includes: map[string]bool{}, applied: map[string]bool{}}
	}
	return st.gitFiles
}

// applyGitConfigFiles records what c does to git configuration files: it
// writes one, or sets include.path / includeIf.*.path with git config.
// Settings of files git reads go into the job's git configuration.
func (st *jobState) applyGitConfigFiles(c *shell.Command) []stateNote {
	var notes []stateNote
	ws := argv(c)
	if nameOf(c, ws) == "git" {
		if call, ok := st.parseGitCall(c); ok && call.sub == "config" {
			p := configSpec.parse(call.args)
			pos := p.pos
			if len(pos) > 0 && pos[0].Value == "set" {
				pos = pos[1:]
			}
			if len(pos) >= 2 {
				if section, _, name := configKey(pos[0].Value); (section == "include" || section == "includeif") && name == "path" {
					notes = append(notes, st.include(c, st.resolve(c, pos[1].Value), 0)...)
				}
			}
		}
	}
	if len(c.Redirects) == 0 && !writesFiles(c) {
		return notes
	}
	gf := st.gitFileState()
	for _, w := range st.in.commandWrites(c, func(p string) bool { return p != "" && !strings.HasPrefix(p, "/dev/") }, nil) {
		key := st.resolve(c, w.path)
		content := applyWrite(gf.content[key], w)
		if !looksGitConfig(content) {
			delete(gf.content, key)
			continue
		}
		if _, had := gf.content[key]; !had && len(gf.content) >= maxGitFiles {
			continue
		}
		gf.content[key] = content
		delete(gf.applied, key)
		if st.gitReads(c, key) {
			notes = append(notes, st.applyConfigFile(c, key, 0)...)
		}
	}
	return notes
}

// looksGitConfig reports whether text may be (the start of) a git
// configuration file: a section header or a setting. Files written line
// by line with echo >> start with a header alone.
func looksGitConfig(text string) bool {
	return strings.Contains(text, "[") || strings.Contains(text, "=")
}

// gitReads reports whether git commands of the job read the file key.
func (st *jobState) gitReads(c *shell.Command, key string) bool {
	switch {
	case key == "~/.gitconfig" || key == "~/.config/git/config" || key == "/etc/gitconfig" || strings.HasSuffix(key, "/.git/config") || key == ".git/config":
		return true
	case st.gitFileState().includes[key]:
		return true
	}
	for _, name := range []string{"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"} {
		if v := st.in.envValue(c, name); v != "" && st.resolve(c, v) == key {
			return true
		}
	}
	if x := st.in.envValue(c, "XDG_CONFIG_HOME"); x != "" && st.resolve(c, x+"/git/config") == key {
		return true
	}
	return false
}

// include records a file pulled in by include.path and applies it when
// the job wrote it.
func (st *jobState) include(c *shell.Command, key string, depth int) []stateNote {
	gf := st.gitFileState()
	if len(gf.includes) < maxGitFiles {
		gf.includes[key] = true
	}
	if _, ok := gf.content[key]; ok {
		return st.applyConfigFile(c, key, depth+1)
	}
	return nil
}

// applyConfigFile puts the settings of a written configuration file into
// the job's git configuration (once per content).
func (st *jobState) applyConfigFile(c *shell.Command, key string, depth int) []stateNote {
	gf := st.gitFileState()
	if gf.applied[key] || depth > 4 {
		return nil
	}
	gf.applied[key] = true
	var notes []stateNote
	for _, kv := range parseGitConfig(gf.content[key]) {
		if section, _, name := configKey(kv[0]); (section == "include" || section == "includeif") && name == "path" {
			notes = append(notes, st.include(c, st.resolve(c, kv[1]), depth)...)
			continue
		}
		if kind, detail := st.git.set(st.in.Server, opAdd, kv[0], kv[1], c.Pos); kind != "" {
			notes = append(notes, stateNote{family: "git", note: st.in.NoteAt(c, kind, detail+" (in "+key+"): "+CommandText(c))})
		}
	}
	return notes
}

// configFileSettings returns the settings one git command gets from a
// written file that GIT_CONFIG_GLOBAL or GIT_CONFIG_SYSTEM name for it
// alone (GIT_CONFIG_GLOBAL=F git clone ...), when they are not in the
// job's configuration already.
func (st *jobState) configFileSettings(c *shell.Command) [][2]string {
	if st.gitFiles == nil {
		return nil
	}
	var out [][2]string
	for _, name := range []string{"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"} {
		v := st.in.envValue(c, name)
		if v == "" {
			continue
		}
		key := st.resolve(c, v)
		if text, ok := st.gitFiles.content[key]; ok && !st.gitFiles.applied[key] {
			out = append(out, parseGitConfig(text)...)
		}
	}
	return out
}

// parseGitConfig reads the key = value settings of a git configuration
// file as section.subsection.name pairs
// (https://git-scm.com/docs/git-config#_syntax): [section "sub"] and the
// old [section.sub] headers, quoted values with \" and \\, comments after
// # or ; outside quotes, a key alone meaning true.
func parseGitConfig(text string) [][2]string {
	var out [][2]string
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.LastIndexByte(line, ']')
			if end < 0 {
				section = ""
				continue
			}
			h := strings.TrimSpace(line[1:end])
			if name, sub, ok := strings.Cut(h, " "); ok {
				sub = strings.TrimSpace(sub)
				sub = strings.TrimSuffix(strings.TrimPrefix(sub, `"`), `"`)
				sub = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(sub)
				section = strings.ToLower(name) + "." + sub
			} else {
				section = h // [section] or [section.sub]
			}
			line = strings.TrimSpace(line[end+1:])
			if line == "" {
				continue
			}
		}
		if section == "" {
			continue
		}
		k, v, hasValue := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		val := "true"
		if hasValue {
			val = configValue(v)
		}
		out = append(out, [2]string{section + "." + k, val})
		if len(out) >= 256 {
			break
		}
	}
	return out
}

// configValue unquotes a git configuration value and drops a trailing
// comment.
func configValue(v string) string {
	var sb strings.Builder
	inQuote := false
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			default:
				sb.WriteByte(v[i])
			}
		case ch == '"':
			inQuote = !inQuote
		case (ch == '#' || ch == ';') && !inQuote:
			return strings.TrimSpace(sb.String())
		default:
			sb.WriteByte(ch)
		}
	}
	return strings.TrimSpace(sb.String())
}
