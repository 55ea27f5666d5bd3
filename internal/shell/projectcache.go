package shell

import (
	"maps"
	"strconv"
	"strings"
)

// The jobs of a project mostly start alike: a before_script from a
// shared template (source a helper library of dozens of functions, set up
// the tools) that hundreds of jobs inherit through extends or default:.
// Analysing it again for every job was a fifth of a heavy scan. A
// ProjectCache keeps, per leading run of script items of one section, the
// state the analysis left after them (variables, functions, files written,
// commands run) together with every job variable it read. A later job
// whose variables have the same values for those names continues from a
// copy of that state instead of analysing the items again: it gets the
// same commands and diagnostics it would have got, rooted in its own
// environment. Reads are replayed against the new environment, so a
// caller that records what the analysis read (discovery's variable sets)
// sees the same names either way.

// ProjectCache holds what the Analyze calls over the jobs of one project
// share: analyses of identical leading script items, and the script files
// they run, parsed. It is not safe for concurrent use: use one per
// project.
type ProjectCache struct {
	m       map[string][]*prefixEntry
	entries int
	cmds    int // commands the entries hold
	// files are the script files parsed, by path, with the bytes they were
	// parsed from (ReadFile returns the same slice while it is unchanged).
	files     map[string]cachedFile
	fileBytes int
}

type cachedFile struct {
	data []byte
	pf   *parsedFile
}

// maxCachedScripts bounds the text of the parsed script files kept.
const maxCachedScripts = 8 << 20

// parsedFile returns the parse of rel if data is what it was parsed from.
func (c *ProjectCache) parsedFile(rel string, data []byte) *parsedFile {
	if c == nil || len(data) == 0 {
		return nil
	}
	if f, ok := c.files[rel]; ok && len(f.data) == len(data) && &f.data[0] == &data[0] {
		return f.pf
	}
	return nil
}

func (c *ProjectCache) keepFile(rel string, data []byte, pf *parsedFile) {
	if c == nil || len(data) == 0 || c.fileBytes+len(data) > maxCachedScripts {
		return
	}
	if c.files == nil {
		c.files = map[string]cachedFile{}
	}
	if _, ok := c.files[rel]; !ok {
		c.fileBytes += len(data)
	}
	c.files[rel] = cachedFile{data, pf}
}

// NewProjectCache returns an empty cache.
func NewProjectCache() *ProjectCache { return &ProjectCache{m: map[string][]*prefixEntry{}} }

// Bounds: a key with many distinct readings is a prefix whose analysis
// depends on the job (AREA=...), where caching gains little; the total
// bounds the memory one project's cache holds.
const (
	maxPrefixReadings = 8
	maxPrefixEntries  = 512
	maxPrefixReads    = 64
	maxPrefixCommands = 20_000 // over all entries: a hostile prefix may emit 100,000
)

type prefixEntry struct {
	reads []envRead
	n     int // sources consumed
	a     analyzer
	st    shState
}

type envRead struct {
	name string
	val  string
	ok   bool
}

// recEnv records the names looked up in the job's environment while a
// prefix is analysed.
type recEnv struct {
	inner Env
	on    bool
	seen  map[string]bool
	reads []envRead
}

func (r *recEnv) Get(name string) (string, bool) {
	v, ok := r.inner.Get(name)
	if r.on && !r.seen[name] {
		r.seen[name] = true
		r.reads = append(r.reads, envRead{name, v, ok})
	}
	return v, ok
}

// prefixLen is the number of leading sources of the first one's section.
func prefixLen(sources []Source) int {
	n := 0
	for n < len(sources) && sources[n].Section == sources[0].Section {
		n++
	}
	return n
}

func prefixKey(sources []Source, opts Options) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(opts.MaxFileDepth))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(opts.MaxCommands))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(opts.MaxSteps))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(opts.MaxScriptSize))
	for _, s := range sources {
		b.WriteByte(0)
		b.WriteString(s.Section)
		b.WriteByte(0)
		b.WriteString(s.Pos.Project)
		b.WriteByte(0)
		b.WriteString(s.Pos.File)
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(s.Pos.Line))
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(s.LineStep))
		b.WriteByte(0)
		b.WriteString(s.Text)
	}
	return b.String()
}

// lookup returns the entry whose reads env answers alike. The reads are
// made through env, as the analysis would have made them.
func (c *ProjectCache) lookup(key string, env Env) *prefixEntry {
	for _, e := range c.m[key] {
		fits := true
		for _, r := range e.reads {
			v, ok := env.Get(r.name)
			if v != r.val || ok != r.ok {
				fits = false
				break
			}
		}
		if fits {
			return e
		}
	}
	return nil
}

// quiet reports whether the analyzer stands between two top-level
// statements, holding nothing that points into a statement in progress.
func (a *analyzer) quiet(st *shState) bool {
	return a.capture == nil && a.pipeIn == nil && a.stdin == nil && len(a.outer) == 0 &&
		len(a.calls) == 0 && len(a.files) == 0 && !a.fanning && !a.inWorld && !a.defaultIdiom &&
		a.nesting == 0 && a.makeDepth == 0 && st.fn == nil && st.log == nil && len(st.params) == 0
}

// store keeps a copy of the state after the prefix of n sources.
func (c *ProjectCache) store(key string, n int, reads []envRead, a *analyzer, st *shState) {
	if c.entries >= maxPrefixEntries || len(c.m[key]) >= maxPrefixReadings || len(reads) > maxPrefixReads ||
		c.cmds+len(a.cmds) > maxPrefixCommands {
		return
	}
	// Freeze what the entry shares with the analysis that goes on, so
	// that its later assignments open new layers.
	st.env.freeze()
	e := &prefixEntry{reads: reads, n: n, st: *st}
	e.a = a.snapshot()
	c.m[key] = append(c.m[key], e)
	c.entries++
	c.cmds += len(a.cmds)
}

// snapshot copies what the analysis accumulated; the maps are copied, the
// commands and layers shared (both are read-only once emitted or frozen).
func (a *analyzer) snapshot() analyzer {
	s := analyzer{
		project:     a.project,
		cmds:        append([]*Command(nil), a.cmds...),
		diags:       append(a.diags[:0:0], a.diags...),
		overArrays:  maps.Clone(a.overArrays),
		steps:       a.steps,
		halted:      a.halted,
		parsed:      maps.Clone(a.parsed),
		limitDiag:   a.limitDiag,
		loopIters:   a.loopIters,
		loopDiag:    a.loopDiag,
		rx:          maps.Clone(a.rx),
		altGroup:    a.altGroup,
		altsLive:    a.altsLive,
		written:     cloneWritten(a.written),
		makeRecipes: a.makeRecipes,
		makeDiag:    a.makeDiag,
	}
	for _, c := range s.cmds {
		if l, ok := c.Env.(*layer); ok {
			l.freeze()
		}
	}
	return s
}

func cloneWritten(m map[string]*writtenFile) map[string]*writtenFile {
	if m == nil {
		return nil
	}
	out := make(map[string]*writtenFile, len(m))
	for k, w := range m {
		c := *w
		c.alts = append([]*writtenFile(nil), w.alts...)
		out[k] = &c
	}
	return out
}

// restore makes a continue from entry e with env as the job's
// environment: the commands and the shell state are copied onto layers
// rooted in env.
func (a *analyzer) restore(e *prefixEntry, env Env) *shState {
	s := &e.a
	r := rebaser{root: newRoot(env), layers: map[*layer]*layer{}}
	a.project = s.project
	a.diags = append(a.diags[:0:0], s.diags...)
	a.overArrays = maps.Clone(s.overArrays)
	a.steps, a.halted, a.limitDiag = s.steps, s.halted, s.limitDiag
	a.parsed, a.rx = maps.Clone(s.parsed), maps.Clone(s.rx)
	a.loopIters, a.loopDiag = s.loopIters, s.loopDiag
	a.altGroup, a.altsLive = s.altGroup, s.altsLive
	a.written = cloneWritten(s.written)
	a.makeRecipes, a.makeDiag = s.makeRecipes, s.makeDiag
	cmds := make([]Command, len(s.cmds))
	index := make(map[*Command]*Command, len(s.cmds))
	a.cmds = make([]*Command, len(s.cmds), len(s.cmds)+16)
	for i, c := range s.cmds {
		cmds[i] = *c
		if l, ok := c.Env.(*layer); ok {
			cmds[i].Env = r.rebase(l)
		}
		index[c] = &cmds[i]
		a.cmds[i] = &cmds[i]
	}
	for i := range cmds {
		if in := cmds[i].Stdin; in != nil {
			if n, ok := index[in]; ok {
				cmds[i].Stdin = n
			}
		}
	}
	st := e.st
	st.env = r.rebase(e.st.env)
	return &st
}

// rebaser copies a chain of layers onto a new root.
type rebaser struct {
	root   *layer
	layers map[*layer]*layer
}

func (r *rebaser) rebase(l *layer) *layer {
	if l == nil {
		return nil
	}
	if l.base != nil {
		return r.root
	}
	if n, ok := r.layers[l]; ok {
		return n
	}
	n := *l
	// Shared with the entry (small's backing array, big): never written.
	n.frozen = true
	n.parent = r.rebase(l.parent)
	r.layers[l] = &n
	return &n
}
