package inventory

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// The job token authentication log as GitLab's UI exports it ("Download
// CSV" under Settings > CI/CD > Job token permissions > Authentication
// log, 17.6+): one row per origin project, written by
// app/services/ci/job_token/export_authorizations_service.rb
// (Ci::JobToken::ExportAuthorizationsService, header_to_value_hash) with
// two columns:
//
//	Origin Project Path       auth.origin_project.full_path
//	Last Authorized At (UTC)  auth.last_authorized_at.utc.iso8601
//
// through GitLab's CsvBuilder (gems/csv_builder/lib/csv_builder.rb,
// formerly lib/csv_builder.rb), which quotes as RFC 4180 and, in
// excel_sanitize, prefixes a cell starting with =, +, -, @ or ; with a
// single quote against spreadsheet formula injection. It is for users whose token
// cannot run the GraphQL query that reads the same log
// (Project.ciJobTokenAuthLogs, an experiment).
const (
	authLogColOrigin = "Origin Project Path"
	authLogColLast   = "Last Authorized At (UTC)"
)

// Bounds by default (limits.AuthLogBytes, limits.AuthLogRows;
// AuthLogOptions raise them): an export holds one row per origin project,
// so an org's worth of rows is thousands; anything far larger is not an
// export.
const (
	MaxAuthLogCSVBytes = 32 << 20
	MaxAuthLogCSVRows  = 200_000
)

// ReadAuthLogCSV reads an authentication-log CSV export. name is how
// errors name the file ("file:line: ..."). Rows are sorted by origin;
// an origin listed twice keeps its latest time.
func ReadAuthLogCSV(r io.Reader, name string) ([]AuthLogEntry, error) {
	return ReadAuthLogCSVWith(r, name, AuthLogOptions{})
}

// AuthLogOptions bound ReadAuthLogCSVWith (0: the defaults).
type AuthLogOptions struct {
	MaxBytes int64
	MaxRows  int
}

// ReadAuthLogCSVWith is ReadAuthLogCSV with other bounds.
func ReadAuthLogCSVWith(r io.Reader, name string, o AuthLogOptions) ([]AuthLogEntry, error) {
	maxBytes, maxRows := limits.Or(o.MaxBytes, limits.AuthLogBytes), limits.Or(o.MaxRows, limits.AuthLogRows)
	lr := &io.LimitedReader{R: r, N: maxBytes + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1 // checked per row, to say which columns
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: not a job token authentication log export (header %q,%q)", name, authLogColOrigin, authLogColLast)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	origin, last := -1, -1
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a BOM from spreadsheet tools
		switch {
		case strings.EqualFold(h, authLogColOrigin):
			origin = i
		case strings.EqualFold(h, authLogColLast):
			last = i
		}
	}
	if origin < 0 || last < 0 {
		return nil, fmt.Errorf("%s:1: header %q is not a job token authentication log export: it needs the columns %q and %q (Download CSV in Settings > CI/CD > Job token permissions > Authentication log)",
			name, strings.Join(header, ","), authLogColOrigin, authLogColLast)
	}
	latest := map[string]AuthLogEntry{}
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if lr.N <= 0 {
			return nil, tooLargeAuthLog(name, maxBytes)
		}
		if rows++; rows > maxRows {
			return nil, fmt.Errorf("%s:%d: more than %d rows (limit %s): not an authentication log export, or %s", name, line, maxRows, limits.AuthLogRows, limits.Raise(limits.AuthLogRows, int64(maxRows)))
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) <= max(origin, last) {
			return nil, fmt.Errorf("%s:%d: %d column(s), the header has %d", name, line, len(rec), len(header))
		}
		path := strings.Trim(strings.TrimSpace(unformula(rec[origin])), "/")
		if err := checkAuthLogPath(path); err != nil {
			return nil, fmt.Errorf("%s:%d: %s %q: %w", name, line, authLogColOrigin, rec[origin], err)
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(unformula(rec[last])))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s %q: not an ISO 8601 time such as 2026-06-02T17:40:00Z", name, line, authLogColLast, rec[last])
		}
		at = at.UTC()
		if prev, ok := latest[strings.ToLower(path)]; !ok || at.After(prev.LastAuthorizedAt) {
			latest[strings.ToLower(path)] = AuthLogEntry{Origin: path, LastAuthorizedAt: at}
		}
	}
	if lr.N <= 0 {
		return nil, tooLargeAuthLog(name, maxBytes)
	}
	out := make([]AuthLogEntry, 0, len(latest))
	for _, e := range latest {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b AuthLogEntry) int { return cmp.Compare(a.Origin, b.Origin) })
	return out, nil
}

func tooLargeAuthLog(name string, limit int64) error {
	return fmt.Errorf("%s: larger than %s (limit %s): not an authentication log export, or %s", name, limits.Format(limits.Bytes, limit), limits.AuthLogBytes, limits.Raise(limits.AuthLogBytes, limit))
}

// unformula undoes CsvBuilder's guard against formula injection: a cell
// that began with =, +, -, @ or ; was written with a leading single quote.
func unformula(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@;", rune(s[1])) {
		return s[1:]
	}
	return s
}

// checkAuthLogPath refuses what cannot be a project's full path: the file
// is hostile input whose names end up in reports and trust drafts.
func checkAuthLogPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case len(p) > 1024:
		return errors.New("longer than any GitLab path")
	case !strings.Contains(p, "/"):
		return errors.New("not a full project path (group/project)")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == ' ' || r == '"' || r == '\'' || r == '`' || r == '\\' {
			return errors.New("not a project path (GitLab paths hold letters, digits, '_', '-', '.' and '/')")
		}
	}
	return nil
}

// csvError names the file and line of a CSV syntax error.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// MergeAuthLog adds rows to a project's authentication log: an origin
// already there keeps the later of the two times.
func MergeAuthLog(p *Project, rows []AuthLogEntry) {
	at := map[string]int{}
	for i, e := range p.AuthLog {
		at[strings.ToLower(e.Origin)] = i
	}
	for _, e := range rows {
		if i, ok := at[strings.ToLower(e.Origin)]; ok {
			if e.LastAuthorizedAt.After(p.AuthLog[i].LastAuthorizedAt) {
				p.AuthLog[i].LastAuthorizedAt = e.LastAuthorizedAt
			}
			continue
		}
		at[strings.ToLower(e.Origin)] = len(p.AuthLog)
		p.AuthLog = append(p.AuthLog, e)
	}
	slices.SortFunc(p.AuthLog, func(a, b AuthLogEntry) int { return cmp.Compare(a.Origin, b.Origin) })
}
