package inventoryreport

import (
	"encoding/csv"
	"github.com/tokenscope/tokenscope/internal/quote"
	"io"
	"strconv"
	"strings"
)

// csvHeader is edges.csv's first row (docs/design.md).
var csvHeader = []string{"caller", "caller_type", "callee", "access", "policies", "status", "on_allowlist", "approved", "drift",
	"origins", "last_seen", "owner", "reason", "expires", "trust_line", "evidence", "evidence_url", "more_evidence"}

// CSV writes edges.csv: one row per edge, RFC 4180 (CRLF, quotes doubled),
// every cell defused against spreadsheet formulas.
func CSV(w io.Writer, doc *Document) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, e := range doc.Edges {
		pol := strings.Join(e.Policies, " ")
		if e.DefaultPermissions {
			pol = "default"
		}
		var ev, url string
		if len(e.Evidence) > 0 {
			v := e.Evidence[primary(e)]
			ev, url = evidenceLine(v), v.URL
		}
		rec := []string{e.Caller, e.CallerType, e.Callee, strings.Join(e.Access, " "), pol, e.Status, strconv.FormatBool(e.OnAllowlist),
			strconv.FormatBool(e.Approved), strconv.FormatBool(e.Drift), strings.Join(e.Origins, " "), e.LastSeen, e.Owner, e.Reason,
			e.Expires, itoa(e.TrustLine), ev, url, itoa(max(len(e.Evidence)-1, 0))}
		for i := range rec {
			rec[i] = quote.CSVCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// primary is the evidence shown when there is room for one: a file
// location beats the authentication log.
func primary(e Edge) int {
	for i, v := range e.Evidence {
		if v.File != "" {
			return i
		}
	}
	return 0
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// evidenceLine is one use as text: [project:]file:line (job): access detail.
func evidenceLine(v Evidence) string {
	p := ""
	if v.File != "" {
		p = v.File
		if v.Line > 0 {
			p += ":" + strconv.Itoa(v.Line)
		}
		if v.Project != "" {
			p = v.Project + ":" + p
		}
		if v.Job != "" {
			p += " (" + v.Job + ")"
		}
		p += ": "
	}
	if v.Access != "" {
		p += v.Access + " "
	}
	return p + v.Detail
}
