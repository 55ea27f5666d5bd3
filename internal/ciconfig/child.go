package ciconfig

import (
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// Child pipelines (trigger:include). A parent-child pipeline runs in the
// same project as its parent, so its jobs get job tokens of that project
// and are analysed as the project's jobs
// (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/#parent-child-pipelines).
// The child's configuration is a full configuration of its own: the files
// trigger:include names are merged as include: entries of an empty root
// (they accept local, project+file, component, template, remote and
// artifact+job), with their own includes, variables, workflow:rules and
// defaults; the parent's default: is not passed down.
//
// Variables: the trigger job's YAML variables (its own and the global ones
// inherit:variables lets it see) are passed to the child pipeline as
// trigger variables, which take precedence over the child's own YAML
// variables (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/#pass-yaml-defined-cicd-variables,
// https://docs.gitlab.com/ci/variables/#cicd-variable-precedence), unless
// trigger:forward:yaml_variables is false
// (https://docs.gitlab.com/ci/yaml/#triggerforward).
//
// Depth: GitLab nests child pipelines at most two levels deep, parent →
// child → grandchild (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/#nested-child-pipelines;
// Ci::CreateDownstreamPipelineService MAX_DESCENDANTS_DEPTH, gitlab-org/gitlab!41102).

const (
	// maxChildDepth is GitLab's nesting limit of child pipelines
	// (limits.ChildDepth, fixed). Limits.MaxChildPipelines bounds the
	// child pipelines one Load expands (each is a configuration of its
	// own): a parent with hundreds of trigger jobs on the same file must
	// not multiply the work without end.
	maxChildDepth = 2
	// ChildPrefix starts the name of a job of a child pipeline:
	// "child:<trigger job> > <job>".
	ChildPrefix = "child:"
)

// childBudget is shared by the loads of one configuration and its child
// pipelines.
type childBudget struct {
	count  int   // child pipelines expanded
	bytes  int64 // configuration read by them
	warned bool
}

// childTrigger is a trigger job that starts a child pipeline.
type childTrigger struct {
	job     string
	include *node
	forward bool // trigger:forward:yaml_variables (default true)
}

// ChildJobName names a job of the child pipeline a trigger job starts.
func ChildJobName(trigger, job string) string {
	return ChildPrefix + trigger + " > " + job
}

// childKey names the configuration a trigger:include builds, for cycle
// detection and messages.
func childKey(inc *node) string { return childFiles(inc) }

// withChildren appends the jobs of the child pipelines the trigger jobs of
// jobs start.
func (l *loader) withChildren(jobs []Job) []Job {
	if len(l.childTriggers) == 0 {
		return jobs
	}
	byName := make(map[string]int, len(jobs))
	for i, j := range jobs {
		byName[j.Name] = i
	}
	var out []Job
	for _, ct := range l.childTriggers {
		i, ok := byName[ct.job]
		if !ok || jobs[i].Never || l.outDone {
			continue // the bridge is not created: neither is its child
		}
		out = append(out, l.child(jobs[i], ct)...)
	}
	return append(jobs, out...)
}

// child loads the child pipeline of one trigger job.
func (l *loader) child(bridge Job, ct childTrigger) []Job {
	at := ct.include.pos()
	key := childKey(ct.include)
	if l.depth >= maxChildDepth {
		l.warnAt(at, "GitLab nests child pipelines at most two levels deep (parent, child, grandchild); this one fails to be created; "+limits.FixedNote(limits.ChildDepth),
			"%s: trigger:include (%s) would start a child pipeline more than %d levels deep; it is not analysed", bridge.Name, key, maxChildDepth)
		return nil
	}
	if slices.Contains(l.childChain, key) {
		l.warnAt(at, "a child pipeline that starts its own configuration again is analysed once",
			"%s: child pipeline cycle: %s → %s; not analysed again", bridge.Name, strings.Join(l.childChain, " → "), key)
		return nil
	}
	b := l.children
	if b.count >= l.lim.MaxChildPipelines || b.bytes > l.lim.MaxTotalBytes {
		if !b.warned {
			b.warned = true
			hint := limits.Raise(limits.ChildPipelines, int64(l.lim.MaxChildPipelines))
			if b.bytes > l.lim.MaxTotalBytes {
				hint = limits.Raise(limits.ConfigBytes, l.lim.MaxTotalBytes)
			}
			l.warnAt(at, "tokenscope bounds the work one configuration causes; "+hint,
				"more than %d child pipelines or %d bytes of child pipeline configuration; the child pipelines of this and later trigger jobs are not analysed", l.lim.MaxChildPipelines, l.lim.MaxTotalBytes)
		}
		return nil
	}
	b.count++

	c := newLoader(l.project, l.root, l.opts)
	c.depth, c.children = l.depth+1, l.children
	c.childChain = append(slices.Clone(l.childChain), key)
	c.out, c.outDone = l.out, l.outDone
	defer func() {
		// Each child pipeline has GitLab's limits of its own; together
		// they are bounded by one pipeline's worth of configuration more.
		b.bytes += c.bytes
		l.out, l.outDone = c.out, c.outDone
		l.diags = append(l.diags, c.diags...)
		for _, n := range c.notes {
			if n.Job != "" {
				n.Job = ChildJobName(bridge.Name, n.Job)
			} else {
				n.Job = ChildPrefix + bridge.Name
			}
			l.notes = append(l.notes, n)
		}
	}()

	parent := &fileCtx{project: l.project, file: l.root, kind: incRoot, via: at}
	items := []*node{ct.include}
	if ct.include.isSeq() {
		items = ct.include.items
	}
	var fold merger
	for _, it := range items {
		if a := it.get("artifact"); it.isMap() && a != nil {
			// A dynamic child pipeline: its configuration is generated by
			// a job while the pipeline runs.
			job := ""
			if j := it.get("job"); j != nil && j.kind == kScalar {
				job = " of job " + j.str
			}
			c.note(NotFetched, it.pos(), "", "dynamic child pipeline: its configuration is the artifact %s%s, generated while the pipeline runs; its jobs are not analysed", a.str, job)
			continue
		}
		for _, f := range c.includeEntry(it, parent) {
			if c.stopIncludes || !c.countInclude(f) {
				break
			}
			if c.root == l.root {
				c.root = f.file // diagnostics about the child as a whole name its first file
			}
			if sub := c.loadTree(f, nil); sub != nil {
				fold.add(sub)
			}
		}
	}
	merged := fold.result()
	if merged == nil {
		return nil
	}
	ext := c.applyExtends(merged)
	r := newRefResolver(c, ext.cfg)
	jobs := c.withChildren(c.jobs(ext, r))
	var pass []Variable
	var passVariants []Variant
	if ct.forward {
		pass = bridge.Variables
		// The trigger job's own variable sets (rules:variables,
		// workflow:rules:variables, parallel:matrix) are trigger variables
		// too: each is a variant of every child job. A matrix trigger job
		// is approximated: its child jobs are also analysed with the trigger
		// job's variables alone.
		for _, bv := range bridge.Variants {
			passVariants = append(passVariants, Variant{Name: "trigger:" + bv.Name, Variables: bv.Variables})
		}
	}
	for i := range jobs {
		j := &jobs[i]
		j.Name = ChildJobName(bridge.Name, j.Name)
		if len(passVariants) > 0 {
			j.Variants = append(slices.Clip(j.Variants), passVariants...)
		}
		if len(pass) == 0 {
			continue
		}
		j.Variables = mergeVariables(j.Variables, pass)
		// Trigger variables outrank rules:variables and
		// workflow:rules:variables too: a variant no longer overrides them.
		for k := range len(j.Variants) - len(passVariants) {
			vr := &j.Variants[k]
			vr.Variables = filterVariables(vr.Variables, func(name string) bool {
				return !slices.ContainsFunc(pass, func(p Variable) bool { return p.Name == name })
			})
		}
	}
	return jobs
}

// forwardYAML reads trigger:forward:yaml_variables (default true).
func forwardYAML(trigger *node) bool {
	v := trigger.get("forward").get("yaml_variables")
	if v != nil && v.kind == kScalar && v.typ == tBool {
		return v.str == "true"
	}
	return true
}

// rootChain is the chain of child configurations a root load starts with.
func rootChain(root string) []string { return []string{cleanPath(root)} }
