package detect

// Registry commands of the registry family: which images each tool and
// subcommand reads and writes, as a table.

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

var (
	dockerRunSpec = optSpec{unknownValue: true,
		boolean: opts("ditPq", "rm", "privileged", "init", "detach", "interactive", "tty", "read-only",
			"publish-all", "no-healthcheck", "oom-kill-disable", "sig-proxy", "help", "quiet",
			"disable-content-trust", "replace", "rmi", "http-proxy", "no-hosts", "tls-verify")}
	pullSpec = optSpec{value: opts("", "platform", "arch", "os", "variant", "authfile", "creds", "cert-dir",
		"decryption-key", "retry", "retry-delay", "policy")}
	pushSpec = optSpec{value: opts("f", "authfile", "creds", "cert-dir", "digestfile", "format", "sign-by",
		"compression-format", "retry", "encryption-key", "remove-signatures")}
	imagetoolsSpec = optSpec{value: opts("tf", "tag", "file", "annotation", "builder", "progress")}
	craneSpec      = optSpec{value: opts("tbfoj", "platform", "tag", "base", "format", "new_layer", "filesystem",
		"append", "output", "annotation", "label", "cmd", "entrypoint", "env", "user", "workdir", "exposed-ports",
		"jobs")}
	skopeoSpec = optSpec{value: opts("f", "src-creds", "dest-creds", "creds", "authfile", "src-authfile",
		"dest-authfile", "format", "src-cert-dir", "dest-cert-dir", "override-arch", "override-os",
		"override-variant", "sign-by", "retry-times", "src-registry-token", "dest-registry-token", "multi-arch",
		"additional-tag", "dest-compress-format", "encryption-key", "decryption-key", "digestfile", "cert-dir",
		"registry-token")}
	orasSpec = optSpec{value: opts("upoa", "username", "password", "output", "artifact-type", "config", "annotation",
		"annotation-file", "export-manifest", "platform", "concurrency", "format", "from-username", "from-password",
		"to-username", "to-password", "registry-config")}
)

// imageOp is one registry access of a command.
type imageOp struct {
	ref    string
	write  bool
	inline *cred // credentials given on the command line (skopeo --creds)
}

// registryOps lists the registry reads and writes of a command.
func registryOps(c *shell.Command) []imageOp {
	ws := argv(c)
	tool := nameOf(c, ws)
	if !containerTools[tool] {
		return nil
	}
	args := dockerGlobal(ws[1:])
	if len(args) == 0 {
		return nil
	}
	sub, rest := args[0].Value, args[1:]
	if (sub == "image" || sub == "container") && len(rest) > 0 {
		sub, rest = rest[0].Value, rest[1:]
	}
	subs, ok := imageOpTable[tool]
	if !ok {
		subs = imageOpTable["docker"] // docker, podman, nerdctl
	}
	if f := subs[sub]; f != nil {
		return f(tool, rest)
	}
	return nil
}

// imageOpsOf reads the image operations of one subcommand from the
// arguments after it.
type imageOpsOf func(tool string, rest []shell.Word) []imageOp

// imageOpTable maps a registry tool and its subcommand to the images it
// reads and writes. "docker" stands for docker, podman and nerdctl;
// buildah has its own row (buildah from pulls; buildah run runs a
// command in a working container, which pulls nothing).
var imageOpTable = func() map[string]map[string]imageOpsOf {
	docker := map[string]imageOpsOf{
		"pull":     func(_ string, rest []shell.Word) []imageOp { return readOps(pullSpec.parse(rest).pos...) },
		"run":      posRead(dockerRunSpec, 0),
		"create":   posRead(dockerRunSpec, 0),
		"push":     dockerPush,
		"manifest": dockerManifest,
		"buildx":   buildxImagetools,
	}
	buildah := map[string]imageOpsOf{}
	for k, f := range docker {
		buildah[k] = f
	}
	// buildah run CONTAINER runs a command in a working container made
	// by buildah from, which pulled the image; it pulls nothing itself
	// (https://github.com/containers/buildah/blob/main/docs/buildah-run.1.md).
	delete(buildah, "run")
	buildah["from"] = posRead(dockerRunSpec, 0)
	return map[string]map[string]imageOpsOf{
		"docker":  docker,
		"buildah": buildah,
		"skopeo": {
			"copy":      skopeoOps(2, [][]string{{"--src-creds", "--creds"}, {"--dest-creds", "--creds"}}, false, true),
			"inspect":   skopeoOps(1, [][]string{{"--creds"}}, false),
			"list-tags": skopeoOps(1, [][]string{{"--creds"}}, false),
			"delete":    skopeoOps(1, [][]string{{"--creds"}}, true),
		},
		"crane": {
			"pull":     cranePull,
			"push":     posWrite(craneSpec, 1, 2),
			"copy":     posCopy(craneSpec),
			"cp":       posCopy(craneSpec),
			"manifest": posRead(craneSpec, 0),
			"digest":   posRead(craneSpec, 0),
			"config":   posRead(craneSpec, 0),
			"ls":       posRead(craneSpec, 0),
			"export":   posRead(craneSpec, 0),
			"blob":     posRead(craneSpec, 0),
			"validate": posRead(craneSpec, 0),
			"tag":      posWrite(craneSpec, 0, 1),
			"delete":   posWrite(craneSpec, 0, 1),
			"append":   craneMutate,
			"mutate":   craneMutate,
			"flatten":  craneMutate,
			"rebase":   craneMutate,
		},
		"oras": {
			"pull":     posRead(orasSpec, 0),
			"discover": posRead(orasSpec, 0),
			"resolve":  posRead(orasSpec, 0),
			"manifest": orasFetch,
			"blob":     orasFetch,
			"repo":     orasFetch,
			"push":     posWrite(orasSpec, 0, 1),
			"attach":   posWrite(orasSpec, 0, 1),
			"tag":      posWrite(orasSpec, 0, 1),
			"copy":     posCopy(orasSpec),
			"cp":       posCopy(orasSpec),
		},
	}
}()

// readOps reads each image.
func readOps(ws ...shell.Word) []imageOp {
	var ops []imageOp
	for _, w := range ws {
		ops = append(ops, imageOp{ref: w.Value})
	}
	return ops
}

// posRead reads the operand at i.
func posRead(spec optSpec, i int) imageOpsOf {
	return func(_ string, rest []shell.Word) []imageOp {
		if p := spec.parse(rest); len(p.pos) > i {
			return readOps(p.pos[i])
		}
		return nil
	}
}

// posWrite writes the operand at i when there are at least atLeast
// operands.
func posWrite(spec optSpec, i, atLeast int) imageOpsOf {
	return func(_ string, rest []shell.Word) []imageOp {
		if p := spec.parse(rest); len(p.pos) >= atLeast {
			return []imageOp{{ref: p.pos[i].Value, write: true}}
		}
		return nil
	}
}

// posCopy reads the first operand and writes the second.
func posCopy(spec optSpec) imageOpsOf {
	return func(_ string, rest []shell.Word) []imageOp {
		if p := spec.parse(rest); len(p.pos) >= 2 {
			return []imageOp{{ref: p.pos[0].Value}, {ref: p.pos[1].Value, write: true}}
		}
		return nil
	}
}

// skopeoOps reads (or, with write, writes) the first n operands, with the
// credentials of the options creds[i] for operand i; write[i] says
// whether operand i is written (the last value repeats).
func skopeoOps(n int, creds [][]string, write ...bool) imageOpsOf {
	return func(_ string, rest []shell.Word) []imageOp {
		p := skopeoSpec.parse(rest)
		if len(p.pos) < n {
			return nil
		}
		ops := make([]imageOp, n)
		for i := range n {
			ops[i] = imageOp{ref: p.pos[i].Value, write: write[min(i, len(write)-1)]}
			if w, ok := p.last(creds[i]...); ok {
				u, pw, _ := strings.Cut(w.Value, ":")
				cr := classifyUserPass(u, pw)
				ops[i].inline = &cr
			}
		}
		return ops
	}
}

func cranePull(_ string, rest []shell.Word) []imageOp {
	if p := craneSpec.parse(rest); len(p.pos) >= 2 {
		return readOps(p.pos[:len(p.pos)-1]...)
	}
	return nil
}

func craneMutate(_ string, rest []shell.Word) []imageOp {
	p := craneSpec.parse(rest)
	var ops []imageOp
	if b, ok := p.last("-b", "--base"); ok {
		ops = append(ops, imageOp{ref: b.Value})
	}
	if len(p.pos) >= 1 {
		ops = append(ops, imageOp{ref: p.pos[0].Value})
	}
	if t, ok := p.last("-t", "--tag"); ok {
		ops = append(ops, imageOp{ref: t.Value, write: true})
	}
	return ops
}

func orasFetch(_ string, rest []shell.Word) []imageOp {
	p := orasSpec.parse(rest)
	if len(p.pos) >= 2 {
		switch p.pos[0].Value {
		case "fetch", "fetch-config", "ls", "tags":
			return readOps(p.pos[1])
		}
	}
	return nil
}

func dockerPush(tool string, rest []shell.Word) []imageOp {
	p := pushSpec.parse(rest)
	switch {
	case len(p.pos) >= 2 && tool != "docker" && tool != "nerdctl":
		return []imageOp{{ref: p.pos[1].Value, write: true}} // podman push IMAGE DEST
	case len(p.pos) >= 1:
		return []imageOp{{ref: p.pos[0].Value, write: true}}
	}
	return nil
}

func dockerManifest(_ string, rest []shell.Word) []imageOp {
	if len(rest) < 2 {
		return nil
	}
	switch rest[0].Value {
	case "inspect":
		return readOps(rest[len(rest)-1])
	case "push":
		if p := pushSpec.parse(rest[1:]); len(p.pos) >= 1 {
			return []imageOp{{ref: p.pos[len(p.pos)-1].Value, write: true}}
		}
	case "create":
		if p := pushSpec.parse(rest[1:]); len(p.pos) >= 2 {
			return readOps(p.pos[1:]...)
		}
	}
	return nil
}

func buildxImagetools(_ string, rest []shell.Word) []imageOp {
	if len(rest) >= 2 && rest[0].Value == "imagetools" && rest[1].Value == "create" {
		p := imagetoolsSpec.parse(rest[2:])
		ops := readOps(p.pos...)
		for _, t := range p.all("-t", "--tag") {
			ops = append(ops, imageOp{ref: t.Value, write: true})
		}
		return ops
	}
	return nil
}

// registryUses reports a command's registry accesses, and the job token
// passed into a container it starts (P39).
func (st *jobState) registryUses(out *Output, c *shell.Command) {
	for _, op := range registryOps(c) {
		st.registryAccess(out, cmdSite(c), op, CommandText(c))
	}
	st.forwardedIntoContainer(out, c)
}
