package report

import (
	"time"

	"github.com/tokenscope/tokenscope/internal/audit"
)

// The audit JSON document (docs/design.md §6c). Lists are never null;
// entry and acknowledged are null when the finding has none.
type auditDoc struct {
	Version   int          `json:"version"`
	Source    string       `json:"source"`
	TrustFile string       `json:"trust_file"`
	OK        bool         `json:"ok"`
	Summary   auditSummary `json:"summary"`
	Findings  []auditWire  `json:"findings"`
	// Unused are acknowledgements that match no finding.
	Unused []auditWireUnused `json:"unused_acknowledgements"`
}

type auditWireUnused struct {
	Kind    string `json:"kind"`
	Project string `json:"project"`
	Entry   string `json:"entry"`
	Line    int    `json:"line"`
}

type auditSummary struct {
	Projects     int            `json:"projects"`
	Enforced     int            `json:"enforced"`
	Open         int            `json:"open"`
	Findings     int            `json:"findings"`
	Failing      int            `json:"failing"`
	Drift        int            `json:"drift"`
	Standing     int            `json:"standing"`
	Acknowledged int            `json:"acknowledged"`
	ByKind       map[string]int `json:"by_kind"`
}

type auditWire struct {
	Kind         string         `json:"kind"`
	Class        string         `json:"class"`
	Project      string         `json:"project"`
	Entry        *auditWireItem `json:"entry"`
	Detail       string         `json:"detail"`
	Action       string         `json:"action"`
	Line         int            `json:"line"`
	Fails        bool           `json:"fails"`
	Acknowledged *auditWireAck  `json:"acknowledged"`
	Fingerprint  string         `json:"fingerprint"`
}

type auditWireItem struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

type auditWireAck struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires,omitempty"`
	Line    int    `json:"line"`
}

func auditDocument(r *audit.Result, m AuditMeta) auditDoc {
	c := r.Counts()
	doc := auditDoc{Version: AuditFormatVersion, Source: m.Source, TrustFile: r.TrustFile, OK: !r.Failed(), Findings: []auditWire{},
		Summary: auditSummary{Projects: r.Projects, Enforced: r.Enforced, Open: r.Open, Findings: len(r.Findings), Failing: c.Failing,
			Drift: c.Drift, Standing: c.Standing, Acknowledged: c.Acknowledged, ByKind: map[string]int{}}}
	doc.Unused = []auditWireUnused{}
	for _, a := range r.Unused {
		doc.Unused = append(doc.Unused, auditWireUnused{Kind: a.Kind, Project: a.Project, Entry: a.Entry, Line: a.Line})
	}
	for k, n := range c.ByKind {
		doc.Summary.ByKind[string(k)] = n
	}
	for _, f := range r.Findings {
		wf := auditWire{Kind: string(f.Kind), Class: f.Kind.Class(), Project: f.Project, Detail: f.Detail, Action: f.Action,
			Line: f.Line, Fails: f.Fails, Fingerprint: f.Fingerprint()}
		if f.Entry != "" {
			wf.Entry = &auditWireItem{Type: string(f.EntryType), Path: f.Entry}
		}
		if a := f.Acknowledged; a != nil {
			wf.Acknowledged = &auditWireAck{Reason: a.Reason, Owner: a.Owner, Line: a.Line}
			if !a.Expires.IsZero() {
				wf.Acknowledged.Expires = a.Expires.Format(time.DateOnly)
			}
		}
		doc.Findings = append(doc.Findings, wf)
	}
	return doc
}
