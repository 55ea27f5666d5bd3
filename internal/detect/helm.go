package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/redact"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// helmDetector finds Helm chart repositories reached with the job token
// (P26): "helm repo add --username gitlab-ci-token --password
// $CI_JOB_TOKEN alias …/projects/<id>/packages/helm/<channel>" pulls
// (packages-read); "helm cm-push chart alias" publishes to the alias
// (packages-write); --repo URL on install/upgrade/pull pulls. Uploads with
// curl to …/packages/helm/api/<channel>/charts are REST calls and belong to
// the api detector.
type helmDetector struct{}

func (helmDetector) Name() string { return "helm" }

// helmRepo is a repository alias bound by "helm repo add".
type helmRepo struct {
	url  string
	raw  string
	cred credential
}

var helmSpec = optSpec{value: opts("nfod", "username", "password", "ca-file", "cert-file", "key-file", "timeout",
	"kube-context", "namespace", "kubeconfig", "registry-config", "repository-config", "repository-cache", "repo",
	"version", "values", "set", "set-string", "set-file", "context-path", "kube-token", "kube-apiserver",
	"kube-as-user", "kube-as-group", "kube-ca-file", "burst-limit", "qps", "post-renderer", "post-renderer-args",
	"description", "output", "destination", "untardir", "app-version", "keyring", "wait-for-jobs", "history-max",
	"max-history"),
}

func (helmDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	repos := map[string]helmRepo{}
	for _, c := range in.Commands {
		ws := argv(c)
		if nameOf(c, ws) != "helm" {
			continue
		}
		spec := helmSpec
		for _, w := range ws[1:] {
			if w.Value == "cm-push" || w.Value == "push" {
				// helm-push: -u/-p are credentials and -f is --force.
				spec = cmPushSpec
				break
			}
		}
		p := spec.parse(ws[1:])
		pos := p.pos
		if len(pos) == 0 {
			continue
		}
		cred := in.helmCred(c, p)
		switch {
		case len(pos) >= 4 && pos[0].Value == "repo" && pos[1].Value == "add":
			alias, url := pos[2].Value, pos[3]
			r := helmRepo{url: url.Value, raw: url.Raw, cred: cred}
			if u, ok := ParseURL(url.Value); ok && u.HasUser && cred.Secret == "" {
				r.cred = credential{User: u.User, Secret: u.Password, Where: "URL user info"}
			}
			repos[alias] = r
			in.helmAccess(c, r, access.PackagesRead, out)
		case pos[0].Value == "cm-push" || (pos[0].Value == "push" && len(pos) >= 3 && !strings.HasPrefix(pos[2].Value, "oci://")):
			if len(pos) < 3 {
				continue
			}
			dest := pos[2]
			r, ok := repos[dest.Value]
			if !ok {
				r = helmRepo{url: dest.Value, raw: dest.Raw}
			}
			if cred.Secret != "" {
				r.cred = cred
			} else if pw, ok := in.getenv(c, "HELM_REPO_PASSWORD"); ok && r.cred.Secret == "" {
				user, _ := in.getenv(c, "HELM_REPO_USERNAME")
				r.cred = credential{User: user, Secret: pw, Where: "HELM_REPO_PASSWORD"}
			}
			in.helmAccess(c, r, access.PackagesWrite, out)
		default:
			if url, ok := p.last("--repo"); ok {
				in.helmAccess(c, helmRepo{url: url.Value, raw: url.Raw, cred: cred}, access.PackagesRead, out)
			}
		}
	}
}

var cmPushSpec = optSpec{value: opts("upvt", "username", "password", "version", "access-token", "auth-header",
	"ca-file", "cert-file", "key-file", "context-path", "timeout")}

// helmCred reads --username/--password or --password-stdin fed by a pipe.
func (in *Input) helmCred(c *shell.Command, p parsed) credential {
	user, _ := p.last("--username", "-u")
	cr := credential{User: user.Value, Where: "--password"}
	if pw, ok := p.last("--password", "-p"); ok {
		cr.Secret = pw.Value
	} else if p.has("--password-stdin") {
		if s, ok := in.stdin(c, nil); ok {
			cr.Secret, cr.Where = strings.TrimSpace(s.value), "--password-stdin"
		}
	}
	return cr
}

// helmAccess emits a use (or a note) for a chart repository access.
func (in *Input) helmAccess(c *shell.Command, r helmRepo, k access.Kind, out *Output) {
	isUse, wontWork := basicAuthVerdict(r.cred)
	otherCred := !isUse && wontWork == "" && r.cred.Secret != ""
	if !isUse && wontWork == "" && !otherCred {
		return
	}
	detail := CommandText(c)
	u, ok := ParseURL(r.url)
	if !ok {
		if looksLikeURLRef(r.url) && isUse {
			reason := UnknownReason(r.url)
			if reason == "" {
				reason = "the chart repository URL is not known statically"
			}
			out.Uses = append(out.Uses, in.UseAt(c, k, use.Target{Kind: use.Unknown, Value: redact.String(r.url), Reference: r.raw, Reason: reason}, detail))
		}
		return
	}
	if !OnServer(in.Server, u.Host) {
		if UnknownReason(u.Host) == "" && !otherCred {
			out.Notes = append(out.Notes, in.NoteAt(c, use.OtherHost, "the job token is sent to chart repository host "+u.Host+", which is not this GitLab server: "+detail))
		}
		return
	}
	method := "GET"
	if k == access.PackagesWrite {
		method = "POST"
	}
	ep, ok := ClassifyAPI(in.Server, u, method)
	if !ok || ep.Access == "" {
		return
	}
	switch {
	case wontWork != "":
		out.Notes = append(out.Notes, in.NoteAt(c, use.WontWork, wontWork+": "+detail))
		return
	case otherCred:
		out.Notes = append(out.Notes, in.NoteAt(c, use.NotJobToken, "the chart repository password ("+secretName(r.cred.Secret)+") is not the job token: "+detail))
		return
	}
	t := ep.Target
	if t.Reason != "" {
		t.Reference = r.raw
	}
	out.Uses = append(out.Uses, in.UseAt(c, ep.Access, t, detail))
}
