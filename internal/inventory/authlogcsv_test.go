package inventory

import (
	"strings"
	"testing"
	"time"
)

// The export as ExportAuthorizationsService writes it: a header, one row
// per origin, ISO 8601 UTC times.
func TestReadAuthLogCSV(t *testing.T) {
	in := "\ufeffOrigin Project Path,Last Authorized At (UTC)\n" +
		"apps/web,2026-11-20T08:15:00Z\n" +
		"\"apps/legacy-portal\",2026-06-02T17:40:00Z\n" +
		"apps/web,2026-11-21T09:00:00+01:00\n" +
		"\n"
	got, err := ReadAuthLogCSV(strings.NewReader(in), "log.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []AuthLogEntry{
		{Origin: "apps/legacy-portal", LastAuthorizedAt: time.Date(2026, 6, 2, 17, 40, 0, 0, time.UTC)},
		{Origin: "apps/web", LastAuthorizedAt: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Origin != want[i].Origin || !got[i].LastAuthorizedAt.Equal(want[i].LastAuthorizedAt) || got[i].LastAuthorizedAt.Location() != time.UTC {
			t.Errorf("row %d = %v, want %v", i, got[i], want[i])
		}
	}
	// Columns in another order are found by name.
	got, err = ReadAuthLogCSV(strings.NewReader("Last Authorized At (UTC),Origin Project Path\n2026-11-20T08:15:00Z,data/etl\n"), "x.csv")
	if err != nil || len(got) != 1 || got[0].Origin != "data/etl" {
		t.Errorf("reordered columns: %v, %v", got, err)
	}
}

func TestReadAuthLogCSVErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "log.csv: empty file"},
		{"not the export", "project,time\napps/web,2026-11-20T08:15:00Z\n", `log.csv:1: header "project,time" is not a job token authentication log export`},
		{"bad time", "Origin Project Path,Last Authorized At (UTC)\napps/web,2026-11-20T08:15:00Z\napps/api,yesterday\n", `log.csv:3: Last Authorized At (UTC) "yesterday": not an ISO 8601 time`},
		{"short row", "Origin Project Path,Last Authorized At (UTC)\napps/web\n", "log.csv:2: 1 column(s), the header has 2"},
		{"bad quote", "Origin Project Path,Last Authorized At (UTC)\n\"apps/web,2026\n", "log.csv:2: extraneous or missing"},
		{"hostile path", "Origin Project Path,Last Authorized At (UTC)\n\"apps/web\"\"; rm -rf /\",2026-11-20T08:15:00Z\n", `log.csv:2: Origin Project Path "apps/web\"; rm -rf /": not a project path`},
		{"no group", "Origin Project Path,Last Authorized At (UTC)\nweb,2026-11-20T08:15:00Z\n", "not a full project path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAuthLogCSV(strings.NewReader(tt.in), "log.csv")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
	// Bounded: a file past the size limit is refused, not read whole.
	big := "Origin Project Path,Last Authorized At (UTC)\n" + strings.Repeat("apps/web,2026-11-20T08:15:00Z\n", MaxAuthLogCSVBytes/29+10)
	if _, err := ReadAuthLogCSV(strings.NewReader(big), "big.csv"); err == nil || !strings.Contains(err.Error(), "big.csv") {
		t.Errorf("oversized file: %v", err)
	}
}

// The formula guard of GitLab's CsvBuilder is undone: a leading quote
// before = + - @ ; is not part of the path.
func TestUnformula(t *testing.T) {
	for in, want := range map[string]string{"'-group/p": "-group/p", "'apps/web": "'apps/web", "apps/web": "apps/web", "'": "'"} {
		if got := unformula(in); got != want {
			t.Errorf("unformula(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergeAuthLog(t *testing.T) {
	p := &Project{Path: "libs/jslib", AuthLog: []AuthLogEntry{
		{Origin: "apps/web", LastAuthorizedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	}}
	MergeAuthLog(p, []AuthLogEntry{
		{Origin: "Apps/Web", LastAuthorizedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{Origin: "apps/api", LastAuthorizedAt: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
	})
	if len(p.AuthLog) != 2 || p.AuthLog[0].Origin != "apps/api" || p.AuthLog[1].Origin != "apps/web" || p.AuthLog[1].LastAuthorizedAt.Day() != 20 {
		t.Errorf("merged = %v", p.AuthLog)
	}
}
