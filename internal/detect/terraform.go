package detect

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/redact"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// terraformDetector finds GitLab-managed Terraform state reached with the
// job token (P33) and Terraform module registry pulls (P29).
//
// State: the HTTP backend address comes from TF_HTTP_ADDRESS,
// "-backend-config=address=…" or a backend "http" block in the root
// module; the password from TF_HTTP_PASSWORD, "-backend-config=password=…"
// or the block. GitLab's wrappers default to the job token: gitlab-terraform
// sets TF_PASSWORD to $CI_JOB_TOKEN when unset and TF_HTTP_ADDRESS from
// TF_ADDRESS (or the own project's state TF_STATE_NAME); gitlab-tofu does
// the same with GITLAB_TOFU_STATE_ADDRESS/GITLAB_TOFU_STATE_NAME.
// Commands that only read state (init, output, show, plan -lock=false)
// need terraform-state-read; the ones that lock or write it (plan, apply,
// destroy, import, refresh, state rm/mv/push) terraform-state-write. One use
// per job and state, at the first command that needs the strongest access.
//
// Modules: TF_TOKEN_<host> set to the job token authenticates registry
// sources "<host>/<namespace>/<name>/<system>". GitLab's module registry
// finds the module by name across the top-level namespace, not in a named
// project, so the target is the namespace (a group-scoped reference)
// rather than a guessed project; it carries the module's name/system so
// that ResolvePublishers (publishers.go) names the project that publishes
// it when the snapshot shows one, and the graph keeps it unresolved
// otherwise.
type terraformDetector struct{}

func (terraformDetector) Name() string { return "terraform" }

// tfBackend is the HTTP backend a command uses.
type tfBackend struct {
	address, addrFrom string
	addrRaw           string
	user, password    string
	passFrom          string
}

// tfHit is the strongest state access seen for one state address.
type tfHit struct {
	k      access.Kind
	c      *shell.Command
	detail string
	target use.Target
}

func (terraformDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	hits := map[string]*tfHit{}
	var order []string
	var initCfg []string // -backend-config values of earlier init commands
	noted := map[string]bool{}
	moduleDone, remoteDone := false, false
	for _, c := range in.Commands {
		ws := argv(c)
		tool := nameOf(c, ws)
		if tool != "terraform" && tool != "tofu" && tool != "gitlab-terraform" && tool != "gitlab-tofu" && tool != "terragrunt" {
			continue
		}
		sub, dir, args := tfSubcommand(ws[1:])
		wrapper := strings.HasPrefix(tool, "gitlab-")
		if dir == "" {
			dir = in.tfRoot(c, wrapper)
		}
		cfg := tfBackendConfigs(args)
		if sub == "init" {
			initCfg = append(initCfg, cfg...)
		}
		k := tfAccess(sub, args)
		if k == "" {
			continue
		}
		if !moduleDone && (sub == "init" || wrapper) {
			moduleDone = true
			in.tfModules(c, dir, out)
		}
		switch sub {
		case "plan", "plan-json", "apply", "destroy", "refresh", "import":
			if !remoteDone {
				// These evaluate data sources, so they read remote state.
				remoteDone = true
				in.tfRemoteState(c, dir, out)
			}
		}
		be, blockNotes := in.tfBackendAt(c, dir, wrapper, append(append([]string(nil), initCfg...), cfg...))
		for _, n := range blockNotes {
			if !noted[n.File+n.Detail] {
				noted[n.File+n.Detail] = true
				out.Notes = append(out.Notes, n)
			}
		}
		if be.address == "" || !HasJobToken(be.password) {
			continue
		}
		if ok, why := basicAuthVerdict(credential{User: be.user, Secret: be.password}); !ok {
			if why != "" && !noted[why] {
				noted[why] = true
				out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, why+" (Terraform HTTP backend): "+CommandText(c)))
			}
			continue
		}
		t, ok := in.tfStateTarget(c, be, out)
		if !ok {
			continue
		}
		detail := CommandText(c) + " (state " + be.addrRaw + " from " + be.addrFrom + "; password from " + be.passFrom + ")"
		key := be.address
		h, seen := hits[key]
		switch {
		case !seen:
			hits[key] = &tfHit{k: k, c: c, detail: detail, target: t}
			order = append(order, key)
		case h.k == access.TerraformStateRead && k == access.TerraformStateWrite:
			*h = tfHit{k: k, c: c, detail: detail, target: t}
		}
	}
	for _, key := range order {
		h := hits[key]
		out.Uses = append(out.Uses, in.UseAt(h.c, h.k, h.target, h.detail))
	}
}

// tfSubcommand skips global options (-chdir=DIR) and returns the
// subcommand ("state rm" for state subcommands), -chdir and the rest.
func tfSubcommand(args []shell.Word) (sub, dir string, rest []string) {
	i := 0
	for ; i < len(args); i++ {
		v := args[i].Value
		if d, ok := strings.CutPrefix(v, "-chdir="); ok {
			dir = d
			continue
		}
		if strings.HasPrefix(v, "-") {
			continue
		}
		break
	}
	if i >= len(args) {
		return "", dir, nil
	}
	sub = args[i].Value
	for _, w := range args[i+1:] {
		rest = append(rest, w.Value)
	}
	if (sub == "state" || sub == "run-all") && len(rest) > 0 {
		sub, rest = sub+" "+rest[0], rest[1:]
		sub = strings.TrimPrefix(sub, "run-all ")
	}
	return sub, dir, rest
}

// tfAccess is the state access a subcommand needs ("" for none).
func tfAccess(sub string, args []string) access.Kind {
	lockFalse := false
	for _, a := range args {
		if a == "-lock=false" || a == "--lock=false" {
			lockFalse = true
		}
	}
	switch sub {
	case "init", "output", "show", "state list", "state show", "state pull", "providers", "graph", "console":
		return access.TerraformStateRead
	case "plan", "plan-json":
		if lockFalse {
			return access.TerraformStateRead
		}
		return access.TerraformStateWrite
	case "apply", "destroy", "import", "refresh", "taint", "untaint", "force-unlock",
		"state rm", "state mv", "state push", "state replace-provider":
		return access.TerraformStateWrite
	}
	return ""
}

// tfBackendConfigs returns the -backend-config values of a command.
func tfBackendConfigs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		switch {
		case strings.HasPrefix(a, "-backend-config=") || strings.HasPrefix(a, "backend-config="):
			out = append(out, a[strings.Index(a, "=")+1:])
		case (a == "-backend-config" || a == "backend-config") && i+1 < len(args):
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// tfRoot is the root module folder: TF_ROOT (gitlab-terraform and
// common practice) or GITLAB_TOFU_ROOT_DIR for the wrapper, else ".".
func (in *Input) tfRoot(c *shell.Command, wrapper bool) string {
	names := []string{"TF_ROOT"}
	if wrapper {
		names = []string{"GITLAB_TOFU_ROOT_DIR", "TF_ROOT"}
	}
	for _, n := range names {
		if v, ok := in.getenv(c, n); ok && v != "" {
			return v
		}
	}
	return "."
}

// tfBackendAt resolves the backend the command uses. Later sources win
// as in Terraform: the block, then -backend-config, then (for unset
// fields only) TF_HTTP_* variables.
func (in *Input) tfBackendAt(c *shell.Command, dir string, wrapper bool, cfg []string) (tfBackend, []use.Note) {
	var be tfBackend
	block, notes := in.tfBackendBlock(dir)
	if block.address != "" {
		be.address, be.addrRaw, be.addrFrom = block.address, block.address, block.addrFrom
	}
	if block.password != "" {
		be.password, be.passFrom = block.password, block.passFrom
	}
	be.user = block.user
	for _, kv := range cfg {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			// A backend configuration file.
			if rel, ok := in.repoPath(path.Join(dir, kv)); ok {
				if text, ok := in.readRepo(rel); ok {
					for _, a := range tfTopAttrs(rel, []byte(text)) {
						if a.static {
							be.set(a.name, a.value, rel)
						}
					}
				}
			}
			continue
		}
		be.set(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`), "-backend-config")
	}
	env := func(n string) (string, bool) { return in.getenv(c, n) }
	if wrapper {
		in.tfWrapperDefaults(c, &be)
	}
	if be.address == "" {
		if v, ok := env("TF_HTTP_ADDRESS"); ok && v != "" {
			be.address, be.addrFrom = v, "TF_HTTP_ADDRESS"
			be.addrRaw = in.rawVar(c, "TF_HTTP_ADDRESS", v)
		}
	}
	if be.password == "" {
		if v, ok := env("TF_HTTP_PASSWORD"); ok {
			be.password, be.passFrom = v, "TF_HTTP_PASSWORD"
		}
	}
	if be.user == "" {
		be.user, _ = env("TF_HTTP_USERNAME")
	}
	return be, notes
}

func (be *tfBackend) set(k, v, from string) {
	switch k {
	case "address":
		be.address, be.addrRaw, be.addrFrom = v, v, from
	case "password":
		be.password, be.passFrom = v, from
	case "username":
		be.user = v
	}
}

// tfWrapperDefaults applies gitlab-terraform/gitlab-tofu defaults: the
// job token as password when TF_PASSWORD is unset, and the address from
// TF_ADDRESS, GITLAB_TOFU_STATE_ADDRESS or the own project's state name.
func (in *Input) tfWrapperDefaults(c *shell.Command, be *tfBackend) {
	env := func(n string) string { v, _ := in.getenv(c, n); return v }
	if be.password == "" && env("TF_HTTP_PASSWORD") == "" {
		if p := env("TF_PASSWORD"); p != "" {
			be.password, be.passFrom = p, "TF_PASSWORD"
			be.user = env("TF_USERNAME")
		} else {
			be.password, be.passFrom, be.user = env("CI_JOB_TOKEN"), "the wrapper's default ($CI_JOB_TOKEN)", inventory.JobTokenUser
		}
	}
	if be.address != "" || env("TF_HTTP_ADDRESS") != "" {
		return
	}
	for _, n := range []string{"GITLAB_TOFU_STATE_ADDRESS", "TF_ADDRESS"} {
		if v := env(n); v != "" {
			be.address, be.addrFrom, be.addrRaw = v, n, in.rawVar(c, n, v)
			return
		}
	}
	for _, n := range []string{"GITLAB_TOFU_STATE_NAME", "TF_STATE_NAME"} {
		if v := env(n); v != "" {
			be.address = env("CI_API_V4_URL") + "/projects/" + env("CI_PROJECT_ID") + "/terraform/state/" + v
			be.addrFrom, be.addrRaw = n+" (own project)", "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/terraform/state/"+v
			return
		}
	}
}

// rawVar is a variable's value as written, for evidence.
func (in *Input) rawVar(c *shell.Command, name, fallback string) string {
	if s, ok := in.origin(c, name); ok {
		return rawOf(s)
	}
	return fallback
}

// tfFile is a .tf file of the root module.
type tfFile struct{ name, text string }

// tfFiles reads the .tf files of the root module in dir (as the job names
// it; "." is the repository root), in name order. A folder outside the
// repository, or one named by an unexpanded variable, has no files the
// scan can read.
func (in *Input) tfFiles(dir string) []tfFile {
	rel, ok := in.repoPath(dir)
	if !ok && dir != "." || in.Files == nil || in.Caller == nil {
		return nil
	}
	if !ok {
		rel = "."
	}
	names, _ := in.Files.Glob(in.Caller.Path, path.Join(rel, "*.tf"))
	sort.Strings(names)
	var out []tfFile
	for _, f := range names {
		if text, ok := in.readRepo(f); ok {
			out = append(out, tfFile{f, text})
		}
	}
	return out
}

// tfBlock is a backend "http" block.
type tfBlock struct {
	address, addrFrom  string
	user               string
	password, passFrom string
}

// tfBackendBlock reads the backend "http" block of the root module. It
// notes forms Terraform rejects or never expands: variables in a backend
// block, and "${env.X}" (not Terraform syntax; the literal is sent).
func (in *Input) tfBackendBlock(dir string) (tfBlock, []use.Note) {
	var b tfBlock
	var notes []use.Note
	for _, tf := range in.tfFiles(dir) {
		f := tf.name
		for _, a := range parseTF(f, []byte(tf.text)).httpBackend {
			k, v, line := a.name, a.text, a.line
			switch {
			case a.hasRoot("env"):
				notes = append(notes, in.noteAtSite(fileSite(f, line), use.WontWork,
					k+" = "+v+": Terraform has no ${env.X} syntax and does not expand backend blocks, so the literal text is sent"))
				continue
			case len(a.roots) > 0:
				notes = append(notes, in.noteAtSite(fileSite(f, line), use.WontWork,
					k+" = "+v+": Terraform does not allow variables in a backend block"))
				continue
			case !a.static:
				continue
			}
			switch k {
			case "address":
				b.address, b.addrFrom = a.value, f+":"+strconv.Itoa(line)
			case "username":
				b.user = a.value
			case "password":
				b.password, b.passFrom = a.value, f
			}
		}
	}
	return b, notes
}

// tfStateTarget classifies the backend address.
func (in *Input) tfStateTarget(c *shell.Command, be tfBackend, out *Output) (use.Target, bool) {
	u, ok := ParseURL(be.address)
	if !ok || UnknownReason(u.Host) != "" {
		reason := UnknownReason(be.address)
		if reason == "" {
			reason = "the Terraform state address is not known statically"
		}
		return use.Target{Kind: use.Unknown, Value: redact.String(be.address), Reference: be.addrRaw, Reason: reason}, true
	}
	if !OnServer(in.Server, u.Host) {
		out.Notes = append(out.Notes, in.NoteAt(c, use.OtherHost, "the job token is the Terraform backend password for "+u.Host+", which is not this GitLab server: "+CommandText(c)))
		return use.Target{}, false
	}
	ep, ok := ClassifyAPI(in.Server, u, "GET")
	if !ok || ep.Family != "terraform/state" {
		return use.Target{}, false
	}
	t := ep.Target
	if t.Reason != "" {
		t.Reference = be.addrRaw
	}
	return t, true
}

// tfModules emits module registry pulls authenticated by TF_TOKEN_<host>.
func (in *Input) tfModules(c *shell.Command, dir string, out *Output) {
	hosts := map[string]string{} // host -> variable name
	for _, name := range in.tfTokenVars(c) {
		v, _ := in.getenv(c, name)
		if !HasJobToken(v) {
			continue
		}
		host := tfTokenHost(strings.TrimPrefix(name, "TF_TOKEN_"))
		if OnServer(in.Server, host) {
			hosts[host] = name
		}
	}
	if len(hosts) == 0 {
		return
	}
	for _, tf := range in.tfFiles(dir) {
		f := tf.name
		for _, m := range parseTF(f, []byte(tf.text)).modules {
			src := m.source
			parts := strings.Split(src, "/")
			if len(parts) != 4 {
				continue
			}
			name, ok := hosts[strings.ToLower(parts[0])]
			if !ok {
				continue
			}
			out.Uses = append(out.Uses, in.UseInFile(f, m.line, access.PackagesRead,
				use.Target{Kind: use.Group, Value: parts[1], Packages: "terraform:" + strings.ToLower(parts[2]+"/"+parts[3])},
				"module source "+src+" ("+name+" is the job token; the Terraform module registry finds "+parts[2]+"/"+parts[3]+" across namespace "+parts[1]+")"))
		}
	}
}

// tfTokenVars lists the TF_TOKEN_* variables the job sets.
func (in *Input) tfTokenVars(c *shell.Command) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in.settings(func(n string) bool { return strings.HasPrefix(n, "TF_TOKEN_") }) {
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// tfTokenHost decodes a TF_TOKEN_ suffix: "_" is ".", "__" is "-"
// (Terraform CLI docs, "Environment Variable Credentials":
// https://developer.hashicorp.com/terraform/cli/config/config-file#environment-variable-credentials).
func tfTokenHost(s string) string {
	s = strings.ReplaceAll(s, "__", "\x00")
	s = strings.ReplaceAll(s, "_", ".")
	return strings.ToLower(strings.ReplaceAll(s, "\x00", "-"))
}

// tfRemoteState emits terraform_remote_state data sources on the HTTP
// backend whose password is the job token (literally, or through
// var.X set by TF_VAR_X): plan, apply and refresh read that state.
func (in *Input) tfRemoteState(c *shell.Command, dir string, out *Output) {
	for _, tf := range in.tfFiles(dir) {
		f := tf.name
		for _, r := range parseTF(f, []byte(tf.text)).remote {
			addrAttr, ok := r.config["address"]
			if r.backend.value != "http" || !ok {
				continue
			}
			addr := in.tfAttrValue(c, addrAttr)
			pass := in.tfAttrValue(c, r.config["password"])
			user := in.tfAttrValue(c, r.config["username"])
			if !HasJobToken(pass) {
				continue
			}
			if ok, _ := basicAuthVerdict(credential{User: user, Secret: pass}); !ok {
				continue
			}
			u, ok := ParseURL(addr)
			if !ok || !OnServer(in.Server, u.Host) {
				continue
			}
			ep, ok := ClassifyAPI(in.Server, u, "GET")
			if !ok || ep.Family != "terraform/state" {
				continue
			}
			out.Uses = append(out.Uses, in.UseInFile(f, addrAttr.line, access.TerraformStateRead, ep.Target,
				"terraform_remote_state "+r.name+" address = "+addrAttr.text+" (read by "+CommandText(c)+")"))
		}
	}
}

// tfAttrValue evaluates a Terraform expression as far as needed: a
// constant string, or var.X taken from TF_VAR_X.
func (in *Input) tfAttrValue(c *shell.Command, a tfAttr) string {
	if a.varName != "" {
		v, _ := in.getenv(c, "TF_VAR_"+a.varName)
		return v
	}
	return a.value
}
