package discovery

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Variants cost what they add. A job runs under several variable sets
// (its own, each rules: or workflow:rules: entry with variables, each
// parallel:matrix combination), and real configurations have dozens of
// workflow rules whose variables (PIPELINE_NAME, RUBY_VERSION, ...) most
// jobs never read. A job is analysed once under its first variable set
// while every variable the shell analysis and the detectors look up is
// recorded; a later variable set whose values of those variables are the
// same (and which defines no new variable that detectors find by pattern
// rather than by name) would yield the same commands and findings, so it
// reuses the analysis. Findings are then merged across the variable sets:
// each use and note once, with the variants it appears under.

// varEnv is a job's environment before its scripts run, for one variable
// set: predefined variables, the job's YAML variables, the variant's on
// top. Values are expanded on demand (GitLab expands references inside
// variable values before the job starts; expand: false stays raw; a
// reference cycle stops at the raw value), so a variable set that is only
// compared costs the variables compared, not all of them.
type varEnv struct {
	pre  map[string]string
	job  []ciconfig.Variable // sorted by name, unique
	vr   []ciconfig.Variable // the variant's
	memo map[string]string
	busy map[string]bool
	// reads, when set, records every name looked up through Get.
	reads map[string]struct{}
}

func newVarEnv(pre map[string]string, job, vr []ciconfig.Variable) *varEnv {
	if !slices.IsSortedFunc(job, byName) {
		job = slices.Clone(job)
		slices.SortStableFunc(job, byName)
	}
	return &varEnv{pre: pre, job: job, vr: vr}
}

func byName(a, b ciconfig.Variable) int { return cmp.Compare(a.Name, b.Name) }

// def returns the YAML definition in effect for name: the variant's, else
// the job's (the last of a name wins, as a YAML mapping would).
func (e *varEnv) def(name string) (ciconfig.Variable, bool) {
	for i := len(e.vr) - 1; i >= 0; i-- {
		if e.vr[i].Name == name {
			return e.vr[i], true
		}
	}
	i, ok := slices.BinarySearchFunc(e.job, name, func(v ciconfig.Variable, n string) int { return cmp.Compare(v.Name, n) })
	if !ok {
		return ciconfig.Variable{}, false
	}
	for i+1 < len(e.job) && e.job[i+1].Name == name {
		i++
	}
	return e.job[i], true
}

// Get implements shell.Env.
func (e *varEnv) Get(name string) (string, bool) {
	if e.reads != nil {
		e.reads[name] = struct{}{}
	}
	return e.resolve(name)
}

func (e *varEnv) resolve(name string) (string, bool) {
	d, ok := e.def(name)
	if !ok {
		v, ok := e.pre[name]
		return v, ok
	}
	if d.Raw || !strings.Contains(d.Value, "$") || e.busy[name] {
		return d.Value, true
	}
	if v, ok := e.memo[name]; ok {
		return v, true
	}
	if e.busy == nil {
		e.busy, e.memo = map[string]bool{}, map[string]string{}
	}
	e.busy[name] = true
	w := shell.ExpandVars(d.Value, lookupFunc(e.resolve))
	delete(e.busy, name)
	e.memo[name] = w.Value
	return w.Value, true
}

// readVal is what an analysis saw of one variable.
type readVal struct {
	val    string
	set    bool
	yaml   bool    // defined in YAML (not predefined, not absent)
	pos    loc.Pos // the YAML definition's place, for evidence
	raw    bool
	varSet bool // defined by the variant rather than the job
}

func (e *varEnv) see(name string) readVal {
	r := readVal{}
	if d, ok := e.def(name); ok {
		r.yaml, r.pos, r.raw = true, d.Pos, d.Raw
		r.varSet = slices.ContainsFunc(e.vr, func(v ciconfig.Variable) bool { return v.Name == name })
	}
	r.val, r.set = e.resolve(name)
	return r
}

// same reports whether e shows name as r does. The variant or the job
// defining it does not matter, only the value and the place of its
// definition (evidence points there).
func (r readVal) same(e *varEnv, name string) bool {
	s := e.see(name)
	return s.val == r.val && s.set == r.set && s.yaml == r.yaml && (!s.yaml || (s.pos == r.pos && s.raw == r.raw))
}

// byPattern reports whether detectors look a variable up by the shape of
// its name, listing the job's YAML variables, instead of by name: such a
// variable can matter although the analysis never read it (it was not
// defined then). Keep in step with the callers of detect's settings().
func byPattern(name string) bool {
	return strings.HasPrefix(name, "TF_TOKEN_") || strings.HasPrefix(name, "PIP_") || strings.HasPrefix(name, "UV_")
}

// analysis is one analysis of a job under one variable set, and the
// variable sets that reuse it.
type analysis struct {
	reads map[string]readVal
	// yamlReads are the names read that the job or variant defines in
	// YAML: only those can differ in another variable set (the predefined
	// variables are the project's).
	yamlReads []string
	uses      []use.Use
	notes     []use.Note
	diags     diag.List
	variants  []int // indexes into the job's variable sets
}

// fits reports whether the variable set e yields what a did.
func (a *analysis) fits(e *varEnv) bool {
	for _, n := range a.yamlReads {
		if !a.reads[n].same(e, n) {
			return false
		}
	}
	for _, v := range e.vr {
		if r, ok := a.reads[v.Name]; ok {
			if !r.same(e, v.Name) {
				return false
			}
			continue
		}
		// Not read: it did not matter to the analysis, unless a detector
		// lists variables by pattern and did not see it then.
		if byPattern(v.Name) {
			return false
		}
	}
	return true
}

// jobScan is what scanning one job under all its variable sets needs.
type jobScan struct {
	snap       inventory.Files
	server     inventory.Server
	project    *inventory.Project
	predefined map[string]string
	detectors  []detect.Detector
}

// scanJob analyses job under each of its variable sets, once per distinct
// effective environment, and returns each finding once with the variants
// it appears under.
func (s *jobScan) scanJob(job *ciconfig.Job) ([]use.Use, []use.Note, diag.List) {
	vs := variants(job)
	var done []*analysis
	for i, v := range vs {
		env := newVarEnv(s.predefined, job.Variables, v.Variables)
		var hit *analysis
		for _, a := range done {
			if a.fits(env) {
				hit = a
				break
			}
		}
		if hit == nil {
			hit = s.analyse(job, v, env)
			done = append(done, hit)
		}
		hit.variants = append(hit.variants, i)
	}
	return merge(job, vs, done)
}

// analyse runs the shell analysis and the detectors under one variable
// set, recording what they read, and names findings by the job alone.
func (s *jobScan) analyse(job *ciconfig.Job, v ciconfig.Variant, env *varEnv) *analysis {
	env.reads = map[string]struct{}{}
	cmds, diags := Commands(s.snap, s.project.Path, job, env)
	in := &detect.Input{Caller: s.project, Server: s.server, Job: job, Variant: v.Name, Env: env, Commands: cmds, Files: s.snap}
	out := &detect.Output{}
	for _, d := range s.detectors {
		d.Detect(in, out)
	}
	reads := env.reads
	env.reads = nil
	a := &analysis{reads: make(map[string]readVal, len(reads)), uses: out.Uses, notes: out.Notes, diags: diags}
	for n := range reads {
		r := env.see(n)
		a.reads[n] = r
		if r.yaml {
			a.yamlReads = append(a.yamlReads, n)
		}
	}
	slices.Sort(a.yamlReads)
	label := variantLabel(job, v.Name)
	for i := range a.uses {
		if a.uses[i].Evidence.Job == label {
			a.uses[i].Evidence.Job = job.Name
		}
	}
	for i := range a.notes {
		if a.notes[i].Job == label {
			a.notes[i].Job = job.Name
		}
	}
	return a
}

// variantLabel is how detectors name a job under a variant in evidence
// (detect's Input.jobName): a matrix combination by its own name, others
// as "job [variant]".
func variantLabel(job *ciconfig.Job, variant string) string {
	switch {
	case strings.HasPrefix(variant, job.Name+": ["):
		return variant
	case variant != "":
		return job.Name + " [" + variant + "]"
	}
	return job.Name
}

// variantName is the name of the i-th variable set in the output.
func variantName(vs []ciconfig.Variant, i int) string {
	if vs[i].Name == "" {
		return use.BaseVariant
	}
	return vs[i].Name
}

// merge returns each use, note and diagnostic of the analyses once. A job
// with several variable sets tags its findings with the variants they
// appear under, in the job's order.
func merge(job *ciconfig.Job, vs []ciconfig.Variant, done []*analysis) ([]use.Use, []use.Note, diag.List) {
	many := len(vs) > 1 || job.Matrix > 0
	type found struct {
		at  int
		set []bool
	}
	var uses []use.Use
	useAt := map[use.Use]*found{}
	var notes []use.Note
	noteAt := map[use.Note]*found{}
	var diags diag.List
	seenDiag := map[diag.Diagnostic]bool{}
	mark := func(f *found, a *analysis) {
		for _, i := range a.variants {
			f.set[i] = true
		}
	}
	for _, a := range done {
		for _, u := range a.uses {
			f := useAt[u]
			if f == nil {
				f = &found{at: len(uses), set: make([]bool, len(vs))}
				useAt[u] = f
				uses = append(uses, u)
			}
			mark(f, a)
		}
		for _, n := range a.notes {
			f := noteAt[n]
			if f == nil {
				f = &found{at: len(notes), set: make([]bool, len(vs))}
				noteAt[n] = f
				notes = append(notes, n)
			}
			mark(f, a)
		}
		for _, d := range a.diags {
			if !seenDiag[d] {
				seenDiag[d] = true
				diags = append(diags, d)
			}
		}
	}
	if !many {
		return uses, notes, diags
	}
	// Variant lists are shared between findings with the same set.
	names := map[string]use.Variants{}
	list := func(set []bool) use.Variants {
		key := make([]byte, len(set))
		for i, b := range set {
			if b {
				key[i] = 1
			}
		}
		if v, ok := names[string(key)]; ok {
			return v
		}
		var ns []string
		for i, b := range set {
			if b {
				ns = append(ns, variantName(vs, i))
			}
		}
		v := use.VariantsOf(ns)
		names[string(key)] = v
		return v
	}
	for _, f := range useAt {
		uses[f.at].Evidence.Variants = list(f.set)
	}
	for _, f := range noteAt {
		notes[f.at].Variants = list(f.set)
	}
	return uses, notes, diags
}
