package inventoryreport

import "strings"

// The page carries its data in a compact form of the Document: project
// paths once, edges pointing at them by index, at most pageEvidence uses
// per edge, links built in the page from the project's default branch. It
// keeps a 10,000-project org's page under 20 MB; inventory.json is the
// contract, this is not (docs/design.md).

const pageEvidence = 5

type pagePayload struct {
	Base     string        `json:"b,omitempty"` // web base for links (http or https)
	Projects []pageProject `json:"p"`
	Edges    []pageEdge    `json:"e"`
}

type pageProject struct {
	Path    string `json:"p"`
	State   int    `json:"s,omitempty"` // 0 not enforced, 1 enforced, 2 unknown
	Allow   int    `json:"n,omitempty"`
	Enforce bool   `json:"e,omitempty"`
	Ref     string `json:"r,omitempty"`
	In      int    `json:"i,omitempty"`
	Out     int    `json:"o,omitempty"`
}

type pageEdge struct {
	Caller     int      `json:"c"` // index in Projects, -1: CallerName
	CallerName string   `json:"cn,omitempty"`
	Group      bool     `json:"t,omitempty"`
	Callee     int      `json:"d"`
	CalleeName string   `json:"dn,omitempty"`
	Access     []string `json:"a,omitempty"`
	Policies   []string `json:"p,omitempty"`
	Default    bool     `json:"dp,omitempty"`
	Status     string   `json:"s"`
	Flags      int      `json:"f,omitempty"` // 1 on allowlist, 2 approved, 4 drift
	Origins    []string `json:"o,omitempty"`
	LastSeen   string   `json:"ls,omitempty"`
	Owner      string   `json:"ow,omitempty"`
	Reason     string   `json:"r,omitempty"`
	Expires    string   `json:"x,omitempty"`
	TrustLine  int      `json:"tl,omitempty"`
	Note       string   `json:"n,omitempty"`
	Evidence   []pageEv `json:"v,omitempty"`
	More       int      `json:"m,omitempty"`
}

type pageEv struct {
	Origin      string `json:"o"`
	Access      string `json:"a,omitempty"`
	Project     int    `json:"pr,omitempty"` // index+1 in Projects; 0: the caller
	ProjectName string `json:"pn,omitempty"` // when not in the inventory
	File        string `json:"f,omitempty"`
	Line        int    `json:"l,omitempty"`
	Job         string `json:"j,omitempty"`
	Detail      string `json:"d,omitempty"`
}

func payload(doc *Document, refs map[string]string) pagePayload {
	pl := pagePayload{Base: webBase(doc.ServerURL), Projects: make([]pageProject, len(doc.Projects)), Edges: make([]pageEdge, len(doc.Edges))}
	idx := make(map[string]int, len(doc.Projects))
	for i, p := range doc.Projects {
		pp := pageProject{Path: p.Path, Allow: p.Allowlist, Enforce: p.Enforce, Ref: refs[p.Path], In: p.Inbound, Out: p.Outbound}
		switch {
		case p.Enforced == nil:
			pp.State = 2
		case *p.Enforced:
			pp.State = 1
		}
		pl.Projects[i] = pp
		idx[strings.ToLower(p.Path)] = i
	}
	lookup := func(p string) (int, string) {
		if i, ok := idx[strings.ToLower(p)]; ok {
			return i, ""
		}
		return -1, p
	}
	for i, e := range doc.Edges {
		pe := pageEdge{Group: e.CallerType == "group", Access: e.Access, Policies: e.Policies, Default: e.DefaultPermissions,
			Status: e.Status, Origins: e.Origins, LastSeen: e.LastSeen, Owner: e.Owner, Reason: e.Reason, Expires: e.Expires,
			TrustLine: e.TrustLine}
		if pe.Group {
			pe.Caller, pe.CallerName = -1, e.Caller
		} else {
			pe.Caller, pe.CallerName = lookup(e.Caller)
		}
		pe.Callee, pe.CalleeName = lookup(e.Callee)
		if e.OnAllowlist {
			pe.Flags |= 1
		}
		if e.Approved {
			pe.Flags |= 2
		}
		if e.Drift {
			pe.Flags |= 4
		}
		if len(e.Evidence) == 0 {
			pe.Note = e.Note
		}
		for k, v := range e.Evidence {
			if k == pageEvidence {
				pe.More = len(e.Evidence) - k
				break
			}
			ev := pageEv{Origin: v.Origin, File: v.File, Line: v.Line, Job: v.Job, Detail: v.Detail}
			if len(e.Access) != 1 {
				ev.Access = v.Access
			}
			if !strings.EqualFold(v.Project, e.Caller) || pe.Group {
				if j, name := lookup(v.Project); j >= 0 {
					ev.Project = j + 1
				} else {
					ev.ProjectName = name
				}
			}
			pe.Evidence = append(pe.Evidence, ev)
		}
		pl.Edges[i] = pe
	}
	return pl
}
