package detect

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
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
func (d dockerfileDetector) Detect(in *Input, out *Output) { replay{d}.Detect(in, out) }

func (dockerfileDetector) stateNotes() string { return "" }

func (dockerfileDetector) start(in *Input, out *Output) func(*shell.Command, *jobState) {
	if len(in.Commands) == 0 {
		return nil
	}
	return func(c *shell.Command, st *jobState) { st.buildUses(out, c) }
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
	tool := nameOf(c, ws)
	parse := buildParsers[tool]
	if parse == nil {
		return build{}, false
	}
	env := st.in.envOf(c)
	b := build{tool: tool, buildArgs: map[string]shell.Word{}}
	p, ok := parse(st, c, ws, &b)
	if !ok {
		return build{}, false
	}
	if b.gitContext != "" {
		return b, true
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

// buildParsers read the build-specific options of each image-build tool
// into b and return the parsed options the common ones (--build-arg,
// --secret, --target) are read from; false when the command builds
// nothing.
var buildParsers = map[string]func(st *jobState, c *shell.Command, ws []shell.Word, b *build) (parsed, bool){
	"executor": parseKaniko, "kaniko": parseKaniko,
	"docker": parseDockerBuild, "podman": parseDockerBuild, "nerdctl": parseDockerBuild, "buildah": parseDockerBuild,
}

// parseKaniko reads a kaniko executor build.
func parseKaniko(st *jobState, c *shell.Command, ws []shell.Word, b *build) (parsed, bool) {
	b.kaniko = true
	p := kanikoSpec.parse(ws[1:])
	b.allStages = !p.has("--skip-unused-stages")
	ctx := "."
	if w, ok := p.last("--context", "-c"); ok {
		ctx = strings.TrimPrefix(w.Value, "dir://")
		if strings.Contains(w.Value, "://") && !strings.HasPrefix(w.Value, "dir://") {
			b.gitContext = w.Value
			return p, true
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
	return p, true
}

// parseDockerBuild reads docker/podman/nerdctl build, docker buildx build
// and buildah bud.
func parseDockerBuild(st *jobState, c *shell.Command, ws []shell.Word, b *build) (parsed, bool) {
	tool := b.tool
	args := dockerGlobal(ws[1:])
	switch {
	case len(args) > 0 && (args[0].Value == "build" || tool == "buildah" && args[0].Value == "bud"):
		args = args[1:]
	case len(args) > 1 && (args[0].Value == "buildx" || args[0].Value == "image") && (args[1].Value == "build" || args[1].Value == "b"):
		args = args[2:]
	default:
		return parsed{}, false
	}
	p := dockerBuildSpec.parse(args)
	b.allStages = tool == "docker" && st.in.envValue(c, "DOCKER_BUILDKIT") == "0"
	ctx := "."
	if len(p.pos) > 0 {
		ctx = p.pos[0].Value
	}
	if ctx == "-" {
		return parsed{}, false // Dockerfile on stdin
	}
	if strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@") {
		b.gitContext = ctx
		return p, true
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
	return p, true
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
