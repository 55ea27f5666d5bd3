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
	// seen memoizes see: a few names per variable set, so a slice
	// searched in order costs less than a map (a job's 35 variable sets
	// each compared by a dozen detector runs).
	seen []namedRead
	// pattern memoizes patterned; nil until computed.
	pattern []string
}

// newVarEnv returns the environment of job variables job (sorted by
// name, see sortedVars) with the variant's vr on top.
func newVarEnv(pre map[string]string, job, vr []ciconfig.Variable) *varEnv {
	return &varEnv{pre: pre, job: job, vr: vr}
}

// sortedVars returns vs sorted by name (ciconfig sorts them already).
func sortedVars(vs []ciconfig.Variable) []ciconfig.Variable {
	if !slices.IsSortedFunc(vs, byName) {
		vs = slices.Clone(vs)
		slices.SortStableFunc(vs, byName)
	}
	return vs
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
	val  string
	set  bool
	yaml bool    // defined in YAML (not predefined, not absent)
	pos  loc.Pos // the YAML definition's place, for evidence
	raw  bool
}

func (e *varEnv) see(name string) readVal {
	for i := range e.seen {
		if e.seen[i].name == name {
			return e.seen[i].readVal
		}
	}
	r := readVal{}
	if d, ok := e.def(name); ok {
		r.yaml, r.pos, r.raw = true, d.Pos, d.Raw
	}
	r.val, r.set = e.resolve(name)
	e.seen = append(e.seen, namedRead{name: name, readVal: r})
	return r
}

// same reports whether e shows name as r does. The variant or the job
// defining it does not matter, only the value and, when pos is set, the
// place of its definition (evidence can point there).
func (r readVal) same(e *varEnv, name string, pos bool) bool {
	s := e.see(name)
	return s.val == r.val && s.set == r.set && s.yaml == r.yaml && s.raw == r.raw && (!pos || s.pos == r.pos)
}

// byPattern reports whether detectors look a variable up by the shape of
// its name, listing the job's YAML variables, instead of by name: such a
// variable can matter although the analysis never read it (it was not
// defined then). Keep in step with the callers of detect's settings().
func byPattern(name string) bool {
	return strings.HasPrefix(name, "TF_TOKEN_") || strings.HasPrefix(name, "PIP_") || strings.HasPrefix(name, "UV_")
}

// switchEnv is the environment analyses read through: the shell
// analysis under one variable set, then each detector under the variable
// set it runs for. Commands keep the variables the script set in their
// own layers and read everything else through here, so a shell analysis
// is shared by variable sets that agree on what the shell read.
type switchEnv struct{ cur *varEnv }

// Get implements shell.Env.
func (s *switchEnv) Get(name string) (string, bool) { return s.cur.Get(name) }

// reading is what one analysis read, and the variable sets it serves.
type reading struct {
	// reads are the names read whose value can differ between the job's
	// variable sets (see varyingNames), sorted; the others are the same in
	// all of them.
	reads    []namedRead
	variants []int // indexes into the job's variable sets
}

type namedRead struct {
	name string
	readVal
	// pos: where the name is defined matters. Only a detector's analysis
	// that consulted the name's YAML definition (detect.Input.YAMLRead)
	// and found something can show the place in its evidence: the shell
	// analysis never reports a variable's place, and an analysis that
	// found nothing finds nothing again from the same values. A job's
	// workflow rules each define RUBY_VERSION on their own line, which an
	// image reference reads by value only: comparing every read's place
	// reran the detectors once per rule.
	pos bool
}

// record keeps what e read since its reads were reset, and the YAML
// definitions consulted (yaml; nil for the shell analysis). With pos,
// the places of those definitions are kept to be compared.
func record(e *varEnv, varying map[string]bool, yaml map[string]struct{}, pos bool) reading {
	var r reading
	reads := e.reads
	e.reads = nil
	for n := range yaml {
		reads[n] = struct{}{}
	}
	for n := range reads {
		if varying[n] {
			_, y := yaml[n]
			r.reads = append(r.reads, namedRead{n, e.see(n), pos && y})
		}
	}
	slices.SortFunc(r.reads, func(a, b namedRead) int { return cmp.Compare(a.name, b.name) })
	return r
}

// fits reports whether the variable set e yields what r saw: the same
// values of what was read, and no variable a detector finds by pattern
// that the analysis did not see.
func (r *reading) fits(e *varEnv) bool {
	for _, x := range r.reads {
		if !x.same(e, x.name, x.pos) {
			return false
		}
	}
	for _, n := range e.patterned() {
		if !slices.ContainsFunc(r.reads, func(x namedRead) bool { return x.name == n }) {
			return false
		}
	}
	return true
}

// patterned returns the names the variant defines that detectors find by
// pattern (byPattern).
func (e *varEnv) patterned() []string {
	if e.pattern == nil {
		e.pattern = []string{}
		for _, v := range e.vr {
			if byPattern(v.Name) {
				e.pattern = append(e.pattern, v.Name)
			}
		}
	}
	return e.pattern
}

// shellRun is one shell analysis of a job and the detector runs over its
// commands.
type shellRun struct {
	reading
	env   *switchEnv
	cmds  []*shell.Command
	diags diag.List
	dets  [][]*detRun // per detector, in Options order
}

// detRun is one detector's findings over a shell run under one variable
// set, named by the job alone.
type detRun struct {
	reading
	uses  []use.Use
	notes []use.Note
}

// jobScan is what scanning one job under all its variable sets needs.
type jobScan struct {
	snap       inventory.Files
	server     inventory.Server
	project    *inventory.Project
	predefined map[string]string
	detectors  []detect.Detector
	shell      shell.Options // bounds of the analysis (Options.Limits)
}

// scanJob analyses job under each of its variable sets: the shell once
// per distinct value of what the shell reads, each detector once per
// distinct value of what it (and the shell) reads. It returns each finding
// once with the variants it appears under.
func (s *jobScan) scanJob(job *ciconfig.Job) ([]use.Use, []use.Note, diag.List) {
	vs := variants(job)
	varying := varyingNames(job, vs)
	jobVars := sortedVars(job.Variables)
	// With one variable set (most jobs) nothing is compared: reads are not
	// recorded.
	track := len(vs) > 1
	var runs []*shellRun
	// One Input for all variable sets: detectors do not keep it.
	in := &detect.Input{Caller: s.project, Server: s.server, Job: job, Files: s.snap}
	for i, v := range vs {
		env := newVarEnv(s.predefined, jobVars, v.Variables)
		var sr *shellRun
		for _, r := range runs {
			if r.fits(env) {
				sr = r
				break
			}
		}
		if sr == nil {
			sr = &shellRun{env: &switchEnv{cur: env}, dets: make([][]*detRun, len(s.detectors))}
			if track {
				env.reads = map[string]struct{}{}
			}
			sr.cmds, sr.diags = commandsWith(s.snap, s.project.Path, job, sr.env, s.shell)
			if track {
				sr.reading = record(env, varying, nil, false)
			}
			sr.variants = make([]int, 0, len(vs)-i)
			runs = append(runs, sr)
		}
		sr.variants = append(sr.variants, i)
		sr.env.cur = env
		in.Variant, in.Env, in.Commands = v.Name, sr.env, sr.cmds
		for d, det := range s.detectors {
			var hit *detRun
			for _, r := range sr.dets[d] {
				if r.fits(env) {
					hit = r
					break
				}
			}
			if hit == nil {
				var yaml map[string]struct{}
				if track {
					env.reads = map[string]struct{}{}
					yaml = map[string]struct{}{}
					in.YAMLRead = func(name string) { yaml[name] = struct{}{} }
				}
				out := &detect.Output{}
				det.Detect(in, out)
				in.YAMLRead = nil
				hit = &detRun{uses: out.Uses, notes: out.Notes}
				found := len(out.Uses)+len(out.Notes) > 0
				if track {
					hit.reading = record(env, varying, yaml, found)
				}
				// After record, which sets the whole reading: one
				// allocation for the variants this run may serve.
				hit.variants = make([]int, 0, len(vs)-i)
				unlabel(job, v.Name, hit)
				sr.dets[d] = append(sr.dets[d], hit)
			}
			hit.variants = append(hit.variants, i)
		}
	}
	var done []*detRun
	var diags diag.List
	for _, sr := range runs {
		diags = append(diags, sr.diags...)
		for _, rs := range sr.dets {
			done = append(done, rs...)
		}
	}
	return merge(job, vs, done, diags)
}

// varyingNames returns the variables whose value can differ between the
// variable sets vs of job: those a variant defines, and job variables whose
// value refers to one of them, directly or through others. Predefined
// variables and the other job variables are the same in every set.
func varyingNames(job *ciconfig.Job, vs []ciconfig.Variant) map[string]bool {
	out := map[string]bool{}
	for _, v := range vs {
		for _, x := range v.Variables {
			out[x.Name] = true
		}
	}
	if len(out) == 0 {
		return out
	}
	for changed := true; changed; {
		changed = false
		for _, v := range job.Variables {
			if out[v.Name] || v.Raw || !strings.Contains(v.Value, "$") {
				continue
			}
			for _, ref := range varRefs(v.Value) {
				if out[ref] {
					out[v.Name], changed = true, true
					break
				}
			}
		}
	}
	return out
}

// varRefs returns the names s refers to as $NAME or ${NAME...}. It may
// list more than expansion would use (a $$ escape), never fewer.
func varRefs(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '{' {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k > j {
			out = append(out, s[j:k])
		}
	}
	return out
}

// unlabel names findings by the job alone: the variants go in a list.
func unlabel(job *ciconfig.Job, variant string, r *detRun) {
	label := variantLabel(job, variant)
	for i := range r.uses {
		if r.uses[i].Evidence.Job == label {
			r.uses[i].Evidence.Job = job.Name
		}
	}
	for i := range r.notes {
		if r.notes[i].Job == label {
			r.notes[i].Job = job.Name
		}
	}
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
func merge(job *ciconfig.Job, vs []ciconfig.Variant, done []*detRun, all diag.List) ([]use.Use, []use.Note, diag.List) {
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
	mark := func(f *found, a *detRun) {
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
	}
	for _, d := range all {
		if !seenDiag[d] {
			seenDiag[d] = true
			diags = append(diags, d)
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
