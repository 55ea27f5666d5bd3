package report

import (
	"fmt"
	"io"

	"github.com/tokenscope/tokenscope/internal/audit"
)

// auditTable writes one block per finding: status, kind, project and
// entry on the first line, what is wrong and what to do below it.
func auditTable(w io.Writer, r *audit.Result, m AuditMeta) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "tokenscope audit of %s against %s\n%s\n", printable(m.Source), printable(r.TrustFile), auditVerdict(r))
	for _, f := range r.Findings {
		fmt.Fprintf(ew, "\n%-4s  %-12s  %s", auditStatus(f), f.Kind, printable(f.Project))
		if e := auditEntry(f); e != "" {
			fmt.Fprintf(ew, "  ← %s", printable(e))
		}
		if f.Line > 0 {
			fmt.Fprintf(ew, "  (%s:%d)", printable(r.TrustFile), f.Line)
		}
		fmt.Fprintf(ew, "\n      %s\n      → %s\n", printable(f.Detail), printable(f.Action))
		if a := auditAckText(f, r.TrustFile); a != "" {
			fmt.Fprintf(ew, "      %s\n", printable(a))
		}
	}
	for _, a := range r.Unused {
		fmt.Fprintf(ew, "\nnote  %s:%d acknowledges %s, which is not found: delete it\n", printable(r.TrustFile), a.Line, printable(ackWhat(a)))
	}
	return ew.err
}
