package ciconfig

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// Root composition, after GitLab's Entry::Root and Entry::Jobs
// (lib/gitlab/ci/config/entry/{root,jobs,default}.rb): reserved keywords are global, names that
// start with "." are hidden, a mapping with script: or run: is a job, one
// with trigger: a bridge. default: and the deprecated top-level keywords
// are copied whole into jobs that do not set the key, per inherit:default.

// reserved top-level keywords can never be job names (Entry::Root).
var reserved = map[string]bool{
	"include": true, "before_script": true, "image": true, "services": true, "after_script": true,
	"variables": true, "stages": true, "types": true, "cache": true,
}

// deprecatedGlobals feed default: from the top level.
var deprecatedGlobals = []string{"image", "services", "before_script", "after_script", "cache"}

// globals is what every job may inherit.
type globals struct {
	defaults  map[string]pair // default key -> value, after deprecated globals
	variables []Variable
	workflow  []Variant
}

func (l *loader) jobs(x *extended, r *refResolver) []Job {
	cfg := x.cfg
	g := l.globals(cfg, r)
	var jobs []Job
	for _, p := range cfg.pairs {
		name := p.key
		if reserved[name] || strings.HasPrefix(name, ".") || x.failed[name] {
			continue
		}
		v := r.resolve(p.val)
		isJob := v.isMap() && (has(v, "script") || has(v, "run"))
		isBridge := v.isMap() && !isJob && has(v, "trigger")
		if !isJob && !isBridge && x.partial[name] && v.isMap() {
			// Its script: is likely in the parent that was not read (the
			// extends warning says so): analysed with what is known.
			isJob = true
		}
		if !isJob && !isBridge {
			if name == "default" || name == "workflow" {
				continue // keywords, not jobs (Root#filter_jobs!)
			}
			if v.isMap() && len(l.unseen) > 0 {
				// A job without script: next to an include that is not
				// fetched most likely overrides a job of that include:
				// GitLab deep-merges same-named jobs of included files with
				// the including file's (https://docs.gitlab.com/ci/yaml/includes/#override-included-configuration-values),
				// so the merged job has the include's script. Not an error.
				l.note(NotFetched, p.pos(), name, "no script here: the job overrides a job of %s, which is not fetched, so it is not analysed",
					strings.Join(l.unseen, ", "))
				continue
			}
			l.errorAt(p.pos(), "add script: (or trigger: for a downstream pipeline), or start the name with . to make it a hidden template",
				"jobs %s config should implement the script:, run:, or trigger: keyword", name)
			continue
		}
		if l.outDone {
			break
		}
		jobs = append(jobs, l.job(name, p, v, g, r))
	}
	if len(jobs) == 0 && !l.diags.HasErrors() && !l.hasNote(NotFetched) {
		l.warnAt(loc.Pos{Project: l.project, File: l.root}, "GitLab rejects a configuration without jobs",
			"the configuration has no visible jobs")
	}
	return jobs
}

func has(m *node, key string) bool {
	_, ok := m.lookup(key)
	return ok
}

func (l *loader) hasNote(k NoteKind) bool {
	for _, n := range l.notes {
		if n.Kind == k {
			return true
		}
	}
	return false
}

func (l *loader) globals(cfg *node, r *refResolver) *globals {
	g := &globals{defaults: map[string]pair{}}
	def := r.resolve(cfg.get("default"))
	if def.isMap() && (has(def, "script") || has(def, "run") || has(def, "trigger")) {
		def = nil // a job named default
	}
	for _, k := range deprecatedGlobals {
		top, ok := cfg.lookup(k)
		if !ok {
			continue
		}
		if dp, ok := def.lookup(k); ok {
			l.errorAt(top.pos(), "keep only the one under default: (top-level "+k+" is deprecated)",
				"%s is defined in top-level and `default:` entry (line %d)", k, dp.line)
			continue
		}
		top.val = r.resolve(top.val)
		g.defaults[k] = top
	}
	if def.isMap() {
		for _, p := range def.pairs {
			g.defaults[p.key] = p
		}
	}
	g.variables = l.variables(r.resolve(cfg.get("variables")), "variables")
	g.workflow = l.workflowVariants(r.resolve(cfg.get("workflow")))
	return g
}

// inherit reads a job's inherit:default or inherit:variables: true (all),
// false (none) or a list of names.
func inherit(job *node, what string) func(string) bool {
	v := job.get("inherit").get(what)
	switch {
	case v == nil || v.isNull():
		return func(string) bool { return true }
	case v.kind == kScalar && v.typ == tBool:
		all := v.str == "true"
		return func(string) bool { return all }
	case v.kind == kSeq:
		names := map[string]bool{}
		for _, it := range v.items {
			if it.kind == kScalar {
				names[it.str] = true
			}
		}
		return func(k string) bool { return names[k] }
	}
	return func(string) bool { return true }
}

func (l *loader) job(name string, p pair, v *node, g *globals, r *refResolver) Job {
	j := Job{Name: name, Pos: p.pos()}
	inheritDefault := inherit(v, "default")
	// field returns the job's value for key, or the inherited default when
	// the job leaves it unset or null.
	field := func(key string) *node {
		if jv := v.get(key); jv != nil && !jv.isNull() {
			return jv
		}
		if dp, ok := g.defaults[key]; ok && inheritDefault(key) {
			return dp.val
		}
		return nil
	}
	if has(v, "script") || has(v, "run") || !has(v, "trigger") {
		j.Image = l.image(name, field("image"))
		j.Services = l.services(name, field("services"))
		if hooks := field("hooks"); hooks.isMap() {
			j.PreGetSources = l.scripts(name, "hooks:pre_get_sources_script", hooks.get("pre_get_sources_script"))
		}
		j.BeforeScript = l.scripts(name, "before_script", field("before_script"))
		j.Script = l.scripts(name, "script", v.get("script"))
		j.Script = append(j.Script, l.runSteps(name, v.get("run"))...)
		j.AfterScript = l.scripts(name, "after_script", field("after_script"))
	} else {
		j.Trigger = l.trigger(name, v.get("trigger"))
	}
	j.Needs = l.needs(name, v.get("needs"))
	if rules := v.get("rules"); neverRuns(rules) {
		j.Never = true
		l.note(NeverRuns, rules.pos(), name, "every rule of the job says when: never, so GitLab never runs it; its accesses are not analysed and it is not a caller")
	}
	own := l.variables(v.get("variables"), name+" variables")
	inheritVars := inherit(v, "variables")
	j.Variables = mergeVariables(filterVariables(g.variables, inheritVars), own)
	l.checkVariableSizes(j.Variables)
	j.Variants, j.Matrix = l.variants(name, v, own, inheritVars, g)
	l.produce(len(j.Variables), j.Pos)
	return j
}

func (l *loader) image(job string, v *node) *Image {
	switch {
	case v == nil || v.isNull():
		return nil
	case v.kind == kScalar:
		return &Image{Name: v.str, Pos: v.pos()}
	case v.isMap():
		if n := v.get("name"); n != nil && n.kind == kScalar {
			return &Image{Name: n.str, Pos: n.pos()}
		}
		l.warnAt(v.pos(), "give the image as a string or {name: ...}", "%s: image has no name", job)
		return nil
	}
	l.warnAt(v.pos(), "give the image as a string or {name: ...}", "%s: image config should be a string or a hash", job)
	return nil
}

func (l *loader) services(job string, v *node) []Image {
	switch {
	case v == nil || v.isNull():
		return nil
	case !v.isSeq():
		v = newSeq(v.src, int(v.line), []*node{v})
	}
	var out []Image
	for _, it := range v.items {
		if img := l.image(job, it); img != nil {
			out = append(out, *img)
		}
	}
	return out
}

// trigger reads a bridge job's trigger: and notes that a multi-project
// trigger is not a job-token access.
func (l *loader) trigger(job string, v *node) *Trigger {
	t := &Trigger{Pos: v.pos()}
	switch {
	case v.kind == kScalar:
		t.Project = v.str
	case v.isMap():
		if p := v.get("project"); p != nil && p.kind == kScalar {
			t.Project, t.Pos = p.str, p.pos()
		}
		if b := v.get("branch"); b != nil && b.kind == kScalar {
			t.Branch = b.str
		}
	}
	if t.Project != "" {
		l.note(PipelineUser, t.Pos, job, "trigger: %s creates the downstream pipeline as the pipeline user, not with the job token", t.Project)
	} else if inc := v.get("include"); inc != nil && !inc.isNull() {
		// A child pipeline runs in this project with its own job tokens:
		// its jobs are analysed as the project's (child.go).
		t.Child = childFiles(inc)
		l.childTriggers = append(l.childTriggers, childTrigger{job: job, include: inc, forward: forwardYAML(v)})
	}
	return t
}

// needs returns the needs:project entries (cross-project artifacts).
func (l *loader) needs(job string, v *node) []Need {
	if !v.isSeq() {
		return nil
	}
	var out []Need
	for _, it := range v.items {
		pv := it.get("project")
		if pv == nil || pv.kind != kScalar {
			continue
		}
		n := Need{Project: pv.str, Artifacts: true, Pos: pv.pos()}
		if jv := it.get("job"); jv != nil && jv.kind == kScalar {
			n.Job = jv.str
		}
		if rv := it.get("ref"); rv != nil && rv.kind == kScalar {
			n.Ref = rv.str
		}
		if av := it.get("artifacts"); av != nil && av.kind == kScalar && av.typ == tBool {
			n.Artifacts = av.str == "true"
		}
		out = append(out, n)
	}
	_ = job
	return out
}

// runSteps returns the script: of each run: step (run: cannot be combined
// with script:, and steps with step: name a remote step, not a script).
func (l *loader) runSteps(job string, v *node) []Script {
	if !v.isSeq() {
		return nil
	}
	var out []Script
	for _, st := range v.items {
		if s := st.get("script"); s != nil {
			out = append(out, l.scripts(job, "run:script", s)...)
		}
	}
	return out
}

// childFiles names the files of a trigger:include for a note.
func childFiles(inc *node) string {
	items := []*node{inc}
	if inc.isSeq() {
		items = inc.items
	}
	var names []string
	for _, it := range items {
		switch {
		case it.kind == kScalar:
			names = append(names, it.str)
		case it.isMap():
			for _, k := range []string{"local", "template", "artifact", "component", "remote", "file"} {
				if v := it.get(k); v != nil && v.kind == kScalar {
					names = append(names, v.str)
				}
			}
		}
	}
	if len(names) == 0 {
		return "no file named"
	}
	return strings.Join(names, ", ")
}

// neverRuns reports whether every entry of rules says when: never: the job
// is then never added to a pipeline (https://docs.gitlab.com/ci/yaml/#rules).
// Nested lists (from !reference) are flattened as GitLab does; an entry
// that is not a rule keeps the job.
func neverRuns(rules *node) bool {
	if !rules.isSeq() {
		return false
	}
	var flat []*node
	var walk func(n *node, depth int) bool
	walk = func(n *node, depth int) bool {
		for _, it := range n.items {
			switch {
			case it.isSeq() && depth < 10:
				if !walk(it, depth+1) {
					return false
				}
			case it.isMap():
				flat = append(flat, it)
			default:
				return false
			}
		}
		return true
	}
	if !walk(rules, 0) || len(flat) == 0 {
		return false
	}
	for _, r := range flat {
		w := r.get("when")
		if w == nil || w.kind != kScalar || w.str != "never" {
			return false
		}
	}
	return true
}
