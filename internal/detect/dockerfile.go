package detect

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// dockerfileDetector finds images an image build in a job pulls with the
// job token (P13): docker build, docker buildx build, podman build,
// buildah bud|build, nerdctl build and kaniko read the Dockerfile from the
// repository; its FROM (and COPY --from, RUN --mount from=) images on
// this GitLab's registry are pulled with the registry credentials the job
// set up (a job-token docker login, a kaniko config.json). The build
// itself gets no credential from the runner, so a FROM of another
// project's registry image without a visible job-token login is reported
// as a not-a-job-token note (a public image, or credentials the scan
// cannot see), never as an edge.
//
// A build that receives the job token (--build-arg CI_JOB_TOKEN=..., P39)
// has its RUN lines analysed as shell with the ARG values as environment,
// for git and registry access inside the build.
type dockerfileDetector struct{}

// Name implements Detector.
func (dockerfileDetector) Name() string { return "dockerfile" }

// Detect implements Detector.
func (dockerfileDetector) Detect(in *Input, out *Output) {
	if in.Job == nil || in.Job.Trigger != nil || len(in.Commands) == 0 {
		return
	}
	walkJob(in, func(c *shell.Command, st *jobState) { st.buildUses(out, c) })
}

// maxDockerfileInstructions bounds the instructions read from one file.
const maxDockerfileInstructions = 20000

// build is an image build found in a job.
type build struct {
	tool       string
	kaniko     bool
	context    string // repository directory ("" = root); ok false when outside
	contextOK  bool
	candidates []string
	buildArgs  map[string]shell.Word
	target     string
	writes     []shell.Word // pushed tags
	reads      []shell.Word // cache-from and build-context images
	secrets    []string     // secrets carrying the job token
	allStages  bool         // builds every stage (kaniko default, legacy builder)
	gitContext string
}

var (
	dockerBuildSpec = optSpec{unknownValue: true,
		boolean: opts("q", "no-cache", "pull", "quiet", "push", "load", "rm", "force-rm", "squash", "compress",
			"disable-content-trust", "check", "layers", "no-hosts", "squash-all", "stdin", "omit-history",
			"identity-label", "all-platforms", "disable-compression", "tls-verify", "help", "debug", "sbom",
			"provenance", "skip-unused-stages", "http-proxy")}
	kanikoSpec = optSpec{value: opts("cfdv", "context", "dockerfile", "build-arg", "destination", "cache-repo",
		"target", "tar-path", "digest-file", "image-name-with-digest-file", "image-name-tag-with-digest-file",
		"registry-mirror", "insecure-registry", "skip-tls-verify-registry", "registry-certificate",
		"registry-client-cert", "label", "customPlatform", "custom-platform", "snapshot-mode", "snapshotMode",
		"verbosity", "kaniko-dir", "ignore-path", "oci-layout-path", "push-retry", "image-fs-extract-retry",
		"cache-dir", "cache-ttl", "git", "log-format", "compression", "compression-level", "build-arg-file",
		"secret")}
)

// parseBuild recognises an image build command.
func (st *jobState) parseBuild(c *shell.Command) (build, bool) {
	ws := argv(c)
	tool := cmdBase(ws[0].Value)
	env := st.in.envOf(c)
	b := build{tool: tool, buildArgs: map[string]shell.Word{}}
	var p parsed
	switch tool {
	case "executor", "kaniko":
		b.kaniko = true
		p = kanikoSpec.parse(ws[1:])
		b.allStages = !p.has("--skip-unused-stages")
		ctx := "."
		if w, ok := p.last("--context", "-c"); ok {
			ctx = strings.TrimPrefix(w.Value, "dir://")
			if strings.Contains(w.Value, "://") && !strings.HasPrefix(w.Value, "dir://") {
				b.gitContext = w.Value
				return b, true
			}
		}
		b.context, b.contextOK = st.repoDirOf(c, ctx)
		if w, ok := p.last("--dockerfile", "-f"); ok {
			if f, ok := st.repoFile(c, w.Value); ok {
				b.candidates = append(b.candidates, f)
			}
			if !strings.HasPrefix(w.Value, "/") && b.contextOK {
				b.candidates = append(b.candidates, path.Join(b.context, w.Value))
			}
		} else if b.contextOK {
			b.candidates = []string{path.Join(b.context, "Dockerfile")}
		}
		if !p.has("--no-push") {
			b.writes = p.all("--destination", "-d")
		}
	case "docker", "podman", "nerdctl", "buildah":
		args := dockerGlobal(ws[1:])
		switch {
		case len(args) > 0 && (args[0].Value == "build" || tool == "buildah" && args[0].Value == "bud"):
			args = args[1:]
		case len(args) > 1 && (args[0].Value == "buildx" || args[0].Value == "image") && (args[1].Value == "build" || args[1].Value == "b"):
			args = args[2:]
		default:
			return build{}, false
		}
		p = dockerBuildSpec.parse(args)
		b.allStages = tool == "docker" && st.in.envValue(c, "DOCKER_BUILDKIT") == "0"
		ctx := "."
		if len(p.pos) > 0 {
			ctx = p.pos[0].Value
		}
		if ctx == "-" {
			return build{}, false // Dockerfile on stdin
		}
		if strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") {
			b.gitContext = ctx
			return b, true
		}
		b.context, b.contextOK = st.repoDirOf(c, ctx)
		if w, ok := p.last("-f", "--file"); ok && w.Value != "-" {
			if f, ok := st.repoFile(c, w.Value); ok {
				b.candidates = []string{f}
			}
		} else if !ok && b.contextOK {
			if tool == "podman" || tool == "buildah" {
				b.candidates = append(b.candidates, path.Join(b.context, "Containerfile"))
			}
			b.candidates = append(b.candidates, path.Join(b.context, "Dockerfile"))
		}
		pushes := p.has("--push")
		for _, o := range p.all("-o", "--output") {
			if strings.Contains(o.Value, "type=registry") || strings.Contains(o.Value, "push=true") {
				pushes = true
			}
		}
		if pushes {
			b.writes = p.all("-t", "--tag")
		}
		for _, w := range p.all("--cache-from") {
			if ref, ok := cacheRef(w.Value); ok {
				b.reads = append(b.reads, shell.Word{Raw: w.Raw, Value: ref, Unknown: w.Unknown})
			}
		}
		for _, w := range p.all("--build-context") {
			if _, v, ok := strings.Cut(w.Value, "="); ok && strings.HasPrefix(v, "docker-image://") {
				b.reads = append(b.reads, shell.Word{Raw: w.Raw, Value: strings.TrimPrefix(v, "docker-image://"), Unknown: w.Unknown})
			}
		}
	default:
		return build{}, false
	}
	for _, w := range p.all("--build-arg") {
		name, val, ok := strings.Cut(w.Value, "=")
		if !ok {
			// --build-arg NAME takes the value from the environment.
			v, set := env.Get(name)
			if !set {
				continue
			}
			val = v
		}
		b.buildArgs[name] = shell.Word{Raw: w.Raw, Value: val, Unknown: w.Unknown}
	}
	for _, w := range p.all("--secret") {
		if strings.Contains(w.Value, "env=") {
			for _, kv := range strings.Split(w.Value, ",") {
				if k, v, _ := strings.Cut(kv, "="); k == "env" && HasJobToken(st.in.envValue(c, v)) {
					b.secrets = append(b.secrets, w.Value)
				}
			}
		}
	}
	if t, ok := p.last("--target"); ok {
		b.target = t.Value
	}
	return b, true
}

// cacheRef extracts the image of --cache-from (plain or type=registry,ref=).
func cacheRef(v string) (string, bool) {
	if !strings.Contains(v, "=") {
		return v, true
	}
	isRegistry := false
	ref := ""
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			isRegistry = val == "registry"
		case "ref":
			ref = val
		}
	}
	return ref, isRegistry && ref != ""
}

// buildUses reports the registry reads of one image build.
func (st *jobState) buildUses(out *Output, c *shell.Command) {
	b, ok := st.parseBuild(c)
	if !ok {
		return
	}
	in := st.in
	text := CommandText(c)
	if b.gitContext != "" {
		st.reportGit(out, cmdSite(c), st.judgeGit(st.git, b.gitContext, false), access.RepositoryRead, text)
	}
	for _, w := range b.reads {
		st.registryAccess(out, cmdSite(c), imageOp{ref: w.Value}, text)
	}
	for _, w := range b.writes {
		st.registryAccess(out, cmdSite(c), imageOp{ref: w.Value, write: true}, text)
	}
	var tokenArgs []string
	for _, name := range sortedKeys(b.buildArgs) {
		if HasJobToken(b.buildArgs[name].Value) {
			tokenArgs = append(tokenArgs, name)
		}
	}
	if len(b.secrets) > 0 {
		out.Notes = append(out.Notes, in.NoteAt(c, use.NotFetched, "the job token is passed into the image build as a BuildKit secret ("+strings.Join(b.secrets, "; ")+"); RUN lines that mount it are not analysed: "+text))
	}
	if b.gitContext != "" {
		return
	}
	fsite, data, err := st.readDockerfile(b.candidates)
	if err != nil {
		if len(b.candidates) > 0 {
			out.Notes = append(out.Notes, in.NoteAt(c, use.NotFetched, "the Dockerfile "+b.candidates[len(b.candidates)-1]+" of this build is not in the snapshot ("+err.Error()+"); its FROM images are not analysed: "+text))
		}
		return
	}
	df := parseDockerfile(data)
	stages := df.stages(b.buildArgs)
	needed := neededStages(stages, b.target, b.allStages)
	via := b.tool + " build at " + at(c.Pos)
	if b.kaniko {
		via = "kaniko build at " + at(c.Pos)
	}
	for _, i := range needed {
		for _, ref := range stages[i].images {
			st.fromUse(out, c, fsite, ref, via)
		}
	}
	if len(tokenArgs) > 0 {
		out.Notes = append(out.Notes, in.NoteAt(c, use.ConfigWarning, "the job token is passed into the image build as build-arg "+strings.Join(tokenArgs, ", ")+
			" (it stays in the image history; a BuildKit secret does not); the RUN lines of "+fsite.file+" are analysed for what it reaches: "+text))
		st.analyseRuns(out, fsite, df, stages, needed, b.buildArgs)
	}
}

// readDockerfile reads the first candidate that exists (in the caller's
// repository, or in a project the job cloned).
func (st *jobState) readDockerfile(candidates []string) (site, []byte, error) {
	var last error = fs.ErrNotExist
	for _, f := range candidates {
		data, s, err := st.readTree(f)
		if err == nil {
			return s, data, nil
		}
		last = err
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(last, fs.ErrNotExist) {
		last = errors.New("file not found")
	}
	return site{}, nil, last
}

// fromUse reports one image a build pulls.
func (st *jobState) fromUse(out *Output, c *shell.Command, fsite site, ref imageRefAt, via string) {
	in := st.in
	srv := in.Server
	s := fsite
	s.line = ref.line
	im := classifyImage(srv, ref.value)
	if im.kind == imgOther {
		return
	}
	cr, ok := st.credFor(im)
	own := im.kind == imgRegistry && im.reason == "" && isOwnPath(in.Caller.Path, im.path)
	switch {
	case ok && cr.kind == credJobToken:
		if im.ownProxy(in.Caller.Path) {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.OwnProject, "dependency proxy of the job's own group "+im.path+" (group-scoped, no allowlist entry): "+ref.text))
			return
		}
		out.Uses = append(out.Uses, in.useAtSite(s, access.ContainerRead, im.target(), detailVia(ref.text, via+"; "+cr.via)))
	case ok && cr.kind == credOther:
		if !own && im.kind == imgRegistry {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.NotJobToken, "the build ("+via+") pulls this image with registry credentials that are not the job token: "+ref.text))
		}
	case !ok:
		if !own && im.kind == imgRegistry {
			out.Notes = append(out.Notes, in.noteAtSite(s, use.NotJobToken, "the build ("+via+") pulls this image without a visible job-token login (a public image, or credentials the scan cannot see): "+ref.text))
		}
	}
}

// ---- Dockerfile parsing ------------------------------------------------------

// dfInstr is one Dockerfile instruction.
type dfInstr struct {
	line int    // first line
	cmd  string // upper case
	args string // arguments, continuation lines joined
	// script is the shell text of a RUN: the arguments with their line
	// breaks kept, or a here-document's body.
	script string
}

type dockerfile struct{ instrs []dfInstr }

// parseDockerfile splits a Dockerfile into instructions, honouring line
// continuations (and the escape directive), comments and RUN
// here-documents.
func parseDockerfile(b []byte) dockerfile {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	escape := `\`
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") {
			break
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(t, "#")), "="); ok && strings.EqualFold(strings.TrimSpace(k), "escape") {
			if v = strings.TrimSpace(v); v == "`" {
				escape = "`"
			}
		}
	}
	var df dockerfile
	for i := 0; i < len(lines) && len(df.instrs) < maxDockerfileInstructions; i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i
		joined := []string{}
		raw := []string{}
		cur := t
		for {
			raw = append(raw, lines[i])
			if strings.HasSuffix(cur, escape) && i+1 < len(lines) {
				joined = append(joined, strings.TrimSuffix(cur, escape))
				i++
				for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i]), "#")) && i+1 < len(lines) {
					i++
				}
				cur = strings.TrimSpace(lines[i])
				continue
			}
			joined = append(joined, cur)
			break
		}
		text := strings.Join(joined, " ")
		cmd, args, _ := strings.Cut(text, " ")
		in := dfInstr{line: start + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		in.script = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.Join(raw, "\n")), cmd))
		if delim, ok := heredocDelim(in.args); ok {
			var body []string
			for i+1 < len(lines) {
				i++
				if strings.TrimSpace(lines[i]) == delim {
					break
				}
				body = append(body, lines[i])
			}
			if strings.HasPrefix(stripRunFlags(in.args), "<<") {
				in.script = strings.Join(body, "\n")
			} else {
				in.script += "\n" + strings.Join(body, "\n") + "\n" + delim
			}
		}
		df.instrs = append(df.instrs, in)
	}
	return df
}

// heredocDelim finds a BuildKit here-document ("<<EOF", "<<-'EOF'").
func heredocDelim(args string) (string, bool) {
	i := strings.Index(args, "<<")
	if i < 0 {
		return "", false
	}
	d := strings.TrimPrefix(args[i+2:], "-")
	if f := strings.Fields(d); len(f) > 0 {
		d = strings.Trim(f[0], `"'`)
		if d != "" && !strings.ContainsAny(d, "<>|&;") {
			return d, true
		}
	}
	return "", false
}

// stripRunFlags removes leading --flags of a RUN/COPY/FROM.
func stripRunFlags(args string) string {
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	return args
}

// leadingFlags returns the leading --name=value flags.
func leadingFlags(args string) map[string]string {
	m := map[string]string{}
	for strings.HasPrefix(args, "--") {
		f, rest, _ := strings.Cut(args, " ")
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		m[k] = v
		args = strings.TrimSpace(rest)
	}
	return m
}

// imageRefAt is an image named in a Dockerfile.
type imageRefAt struct {
	value string // expanded
	text  string // the instruction as written
	line  int
}

// dfStage is one build stage.
type dfStage struct {
	name   string
	base   int // index of the stage it builds on, -1 for an image
	deps   []int
	images []imageRefAt
	first  int // index of its FROM in the instructions
	last   int // index after its last instruction
}

// stages evaluates FROM lines (and COPY --from, RUN --mount from=) with the
// global ARGs: defaults before the first FROM, overridden by build-args.
// Undefined variables expand to "" as in Docker.
func (df dockerfile) stages(buildArgs map[string]shell.Word) []dfStage {
	global := map[string]string{}
	var stages []dfStage
	byName := map[string]int{}
	stageRef := func(name string) (int, bool) {
		if i, ok := byName[strings.ToLower(name)]; ok {
			return i, true
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(stages) {
			return n, true
		}
		return 0, false
	}
	for idx, in := range df.instrs {
		switch in.cmd {
		case "ARG":
			if len(stages) == 0 {
				for _, kv := range argDecls(in.args) {
					if v, ok := buildArgs[kv[0]]; ok {
						global[kv[0]] = v.Value
					} else if kv[1] != "\x00" {
						global[kv[0]] = dfExpand(kv[1], global)
					}
				}
			}
		case "FROM":
			if len(stages) > 0 {
				stages[len(stages)-1].last = idx
			}
			rest := strings.Fields(stripRunFlags(in.args))
			if len(rest) == 0 {
				continue
			}
			ref := dfExpand(rest[0], global)
			s := dfStage{base: -1, first: idx, last: len(df.instrs)}
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				s.name = strings.ToLower(rest[2])
			}
			if i, ok := stageRef(ref); ok && !isDigits(ref) {
				s.base = i
				s.deps = append(s.deps, i)
			} else if !strings.EqualFold(ref, "scratch") {
				s.images = append(s.images, imageRefAt{value: ref, text: "FROM " + in.args, line: in.line})
			}
			stages = append(stages, s)
			if s.name != "" {
				byName[s.name] = len(stages) - 1
			}
		case "COPY", "ADD", "RUN":
			if len(stages) == 0 {
				continue
			}
			cur := &stages[len(stages)-1]
			var froms []string
			flags := leadingFlags(in.args)
			if f, ok := flags["from"]; ok {
				froms = append(froms, f)
			}
			if m, ok := flags["mount"]; ok {
				for _, kv := range strings.Split(m, ",") {
					if k, v, _ := strings.Cut(kv, "="); k == "from" {
						froms = append(froms, v)
					}
				}
			}
			for _, f := range froms {
				f = dfExpand(f, global)
				if i, ok := stageRef(f); ok {
					cur.deps = append(cur.deps, i)
				} else if f != "" {
					cur.images = append(cur.images, imageRefAt{value: f, text: in.cmd + " " + in.args, line: in.line})
				}
			}
		}
	}
	return stages
}

// neededStages returns the stages a build runs: every stage up to the
// target for builders that build all stages, otherwise the target and
// what it depends on (BuildKit, buildah).
func neededStages(stages []dfStage, target string, all bool) []int {
	if len(stages) == 0 {
		return nil
	}
	t := len(stages) - 1
	if target != "" {
		for i, s := range stages {
			if s.name == strings.ToLower(target) {
				t = i
			}
		}
	}
	if all {
		out := make([]int, t+1)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if seen[i] || i < 0 || i >= len(stages) {
			return
		}
		seen[i] = true
		for _, d := range stages[i].deps {
			visit(d)
		}
	}
	visit(t)
	var out []int
	for i := range stages {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// argDecls parses "ARG A=1 B" into name/default pairs; "\x00" marks no
// default.
func argDecls(s string) [][2]string {
	var out [][2]string
	for _, tok := range splitQuoted(s) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			v = "\x00"
		}
		out = append(out, [2]string{k, unquote(v)})
	}
	return out
}

// splitQuoted splits on spaces outside quotes.
func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case q != 0:
			if ch == q {
				q = 0
			}
			b.WriteByte(ch)
		case ch == '"' || ch == '\'':
			q = ch
			b.WriteByte(ch)
		case ch == ' ' || ch == '\t':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteByte(ch)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

// dfExpand substitutes $VAR, ${VAR}, ${VAR:-w}, ${VAR:+w}, ${VAR-w} and
// ${VAR+w} once (values are not re-expanded); unset variables become "".
func dfExpand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return unquote(s)
	}
	s = unquote(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			b.WriteString(dfParam(expr, vars))
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
}

func dfParam(expr string, vars map[string]string) string {
	for _, op := range []string{":-", ":+", "-", "+"} {
		if name, word, ok := strings.Cut(expr, op); ok && name != "" && !strings.ContainsAny(name, ":-+") {
			v, set := vars[name]
			switch op {
			case ":-":
				if v == "" {
					return dfExpand(word, vars)
				}
			case "-":
				if !set {
					return dfExpand(word, vars)
				}
			case ":+":
				if v != "" {
					return dfExpand(word, vars)
				}
				return ""
			case "+":
				if set {
					return dfExpand(word, vars)
				}
				return ""
			}
			return v
		}
	}
	return vars[expr]
}

// ---- RUN lines of a build that receives the job token (P39) ------------------

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
