package plan

import (
	"cmp"
	"slices"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Row is one line of the edge table: a caller (project or group entry) of
// a callee, what the plan does with it, and why.
type Row struct {
	Caller     string
	CallerType EntryType
	Callee     string
	Access     []access.Kind
	// Policies as planned (nil: default permissions); for remove and
	// unapproved rows, the entry's policies today; for review, denied and
	// never rows, the policies it would need.
	Policies []string
	Status   Status
	// Action is what apply does: add, keep, update, remove, or "" (none;
	// for add-via-group, the group entry's row carries the add).
	Action string
	Uses   []use.Use
	Reason string
	Entry  *Entry // nil for review, denied and never rows
}

var statusOrder = map[Status]int{StatusAdd: 0, StatusUpdate: 1, StatusRemove: 2, StatusStale: 3, StatusKeep: 4,
	StatusViaGroup: 5, StatusReview: 6, StatusDenied: 7, StatusUnapproved: 8, StatusNever: 9}

// Rows lists every caller of every callee, sorted by callee, caller and
// status: the edge table of every human format.
func (p *Plan) Rows() []Row {
	var rows []Row
	for _, pr := range p.Projects {
		entry := func(l []Entry, st Status, action string) {
			for i := range l {
				e := &l[i]
				s := st
				if e.Stale && (st == StatusAdd || st == StatusKeep || st == StatusUpdate || st == StatusViaGroup) {
					s = StatusStale
				}
				pol := e.Policies
				if st == StatusRemove || st == StatusUnapproved {
					pol = e.CurrentPolicies
				}
				rows = append(rows, Row{Caller: e.Path, CallerType: e.Type, Callee: pr.Path, Access: e.Access, Policies: pol,
					Status: s, Action: action, Uses: e.Uses, Reason: e.Reason, Entry: e})
			}
		}
		entry(pr.Add, StatusAdd, "add")
		entry(pr.Update, StatusUpdate, "update")
		entry(pr.Keep, StatusKeep, "keep")
		entry(pr.ViaGroup, StatusViaGroup, "")
		entry(pr.Remove, StatusRemove, "remove")
		entry(pr.Unapproved, StatusUnapproved, "")
		review := func(l []Review, st Status) {
			for _, r := range l {
				pol, _ := Policies(r.Access, p.Capabilities)
				rows = append(rows, Row{Caller: r.Caller, CallerType: ProjectEntry, Callee: pr.Path, Access: r.Access, Policies: pol,
					Status: st, Uses: r.Uses, Reason: r.Reason})
			}
		}
		review(pr.NeedsReview, StatusReview)
		review(pr.Denied, StatusDenied)
		review(pr.Never, StatusNever)
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Callee, b.Callee), cmp.Compare(a.Caller, b.Caller), cmp.Compare(statusOrder[a.Status], statusOrder[b.Status]))
	})
	return rows
}
