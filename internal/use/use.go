// Package use holds what discovery finds: a Use is one place where a caller
// project's job token reaches (or names) another project, with the evidence
// a reviewer needs; a Note is something worth saying that is not a job-token
// edge. Detectors produce them; package graph resolves and merges them.
package use

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Origin says how a use was found.
type Origin string

// Origins.
const (
	CIConfig Origin = "ci-config" // static analysis of CI configuration and repository files
	AuthLog  Origin = "auth-log"  // GitLab's job token authentication log
	JobLog   Origin = "job-log"   // a job-token failure seen in a job log
	Declared Origin = "declared"  // stated by a human (trust.yaml)
)

// TargetKind says how the text names the callee.
type TargetKind string

// Target kinds. Every kind but Group and Instance can resolve to one project.
const (
	// Path is a full project path ("group/sub/project"), already URL-decoded
	// and without ".git".
	Path TargetKind = "path"
	// ID is a numeric project ID, resolved through the inventory.
	ID TargetKind = "id"
	// Image is a registry repository path after the registry host
	// ("group/project/image"); it resolves to the project with the longest
	// matching path prefix.
	Image TargetKind = "image"
	// Group is a group path or numeric group ID (group-level package
	// endpoints); never an edge to one project: reported as group-scoped.
	Group TargetKind = "group"
	// Instance is an instance-level endpoint (npm by scope, Maven by package
	// name); never an edge to one project.
	Instance TargetKind = "instance"
	// Unknown is a reference that could not be turned into any of the above
	// (an undefined variable, a computed URL); Reason says why.
	Unknown TargetKind = "unknown"
)

// Target is how a use names its callee, before resolution.
type Target struct {
	Kind  TargetKind
	Value string // the path, ID, image path, group, or the unexpanded reference
	// Reference is the text as written (with variables unexpanded), shown
	// to the user when the target cannot be resolved. Empty means Value.
	Reference string
	// Reason is set when the detector already knows the target cannot be
	// resolved (e.g. "variable TARGET_URL not defined in the CI config").
	Reason string
	// Packages names, for a Group target, the packages the caller
	// installs through the group's endpoint: space-separated
	// "format:name" ("composer:acme/billing terraform:vpc/aws"; a string
	// so that a Target stays comparable). The project that publishes one
	// in the snapshot is the callee (detect.ResolvePublishers).
	Packages string
}

// Evidence is where a use was found.
type Evidence struct {
	// Pos is the file that holds the evidence; its project may not be the
	// caller (an included file may live in another project). Line is 0
	// when unknown.
	loc.Pos
	Job    string // job name; "" for repository files read outside any job
	Detail string // what was matched, with tokens redacted
	// Variants are the variable sets of the job under which the use was
	// found, when the job has more than one (rules:, workflow:rules:
	// variables, parallel:matrix); empty otherwise.
	Variants Variants
}

// Variants is a list of a job's variant names ("base", "rules[2]",
// "workflow:rules[0]", "build: [amd64]"), kept as one string so that uses
// and notes stay comparable values. The empty value is no list.
type Variants string

// BaseVariant names the job's own variable set: no rule or workflow rule
// with variables applies.
const BaseVariant = "base"

// VariantsOf makes a Variants from names, in the order given.
func VariantsOf(names []string) Variants { return Variants(strings.Join(names, "\n")) }

// List returns the names, nil for none.
func (v Variants) List() []string {
	if v == "" {
		return nil
	}
	return strings.Split(string(v), "\n")
}

// Use is one place where a caller reaches a callee with its job token.
type Use struct {
	Origin Origin
	Access access.Kind
	Caller string // full path of the project whose job holds the token
	Target Target
	// Callee is the resolved full path; set by package graph.
	Callee   string
	Evidence Evidence
}

// Unresolved is a use whose target could not be resolved to a project.
type Unresolved struct {
	loc.Pos // Project is the file's project (see Caller)
	// Caller is the project whose pipeline runs the job, when the file
	// is another project's (a template it includes); "" when it is
	// Pos.Project.
	Caller    string
	Job       string
	Access    access.Kind
	Reference string // the target as written
	Reason    string
	Variants  Variants // as in Evidence
}

// NoteKind classifies notes.
type NoteKind string

// Note kinds.
const (
	// NotJobToken: cross-project text that GitLab does not authenticate with
	// the job token (trigger:, include:project, PRIVATE-TOKEN, deploy tokens).
	NotJobToken NoteKind = "not-a-job-token-edge"
	// OwnProject: a job-token access to the caller's own project.
	OwnProject NoteKind = "own-project"
	// WontWork: a job-token access GitLab rejects (cross-project push,
	// wrong user name, wrong parameter, endpoint the token cannot use).
	WontWork NoteKind = "will-not-work"
	// NotFetched: configuration tokenscope could not read offline (remote
	// and template includes, projects outside the snapshot).
	NotFetched NoteKind = "not-fetched"
	// OtherHost: a token sent to a host that is not this GitLab.
	OtherHost NoteKind = "other-host"
	// NeverRuns: a job whose rules always say when: never; GitLab never
	// runs it, so it is not a caller.
	NeverRuns NoteKind = "never-runs"
	// ConfigError and ConfigWarning carry input diagnostics.
	ConfigError   NoteKind = "config-error"
	ConfigWarning NoteKind = "config-warning"
)

// Note is something a reviewer should know that is not an edge.
type Note struct {
	loc.Pos
	// Caller is the project whose pipeline runs the job, when the file
	// is another project's (a template it includes); "" when it is
	// Pos.Project or the note is about no job.
	Caller   string
	Job      string
	Kind     NoteKind
	Detail   string
	Variants Variants // as in Evidence
}

// CompareUses orders uses by caller, callee, access, then evidence place.
func CompareUses(a, b Use) int {
	return cmp.Or(
		cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee),
		cmp.Compare(a.Access, b.Access), cmp.Compare(a.Origin, b.Origin),
		loc.Compare(a.Evidence.Pos, b.Evidence.Pos), cmp.Compare(a.Evidence.Job, b.Evidence.Job),
		cmp.Compare(a.Evidence.Detail, b.Evidence.Detail), cmp.Compare(a.Evidence.Variants, b.Evidence.Variants),
	)
}

// SortNotes orders notes by project, file, line, kind and detail and drops
// duplicates.
func SortNotes(ns []Note) []Note {
	slices.SortFunc(ns, func(a, b Note) int {
		return cmp.Or(loc.Compare(a.Pos, b.Pos), cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Job, b.Job), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Detail, b.Detail), cmp.Compare(a.Variants, b.Variants))
	})
	return slices.Compact(ns)
}

// SortUnresolved orders unresolved references and drops duplicates.
func SortUnresolved(us []Unresolved) []Unresolved {
	slices.SortFunc(us, func(a, b Unresolved) int {
		return cmp.Or(loc.Compare(a.Pos, b.Pos), cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Job, b.Job), cmp.Compare(a.Reference, b.Reference),
			cmp.Compare(a.Access, b.Access), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Variants, b.Variants))
	})
	return slices.Compact(us)
}

// RunBy is the project whose pipeline runs the job of u.
func (u Unresolved) RunBy() string { return cmp.Or(u.Caller, u.Project) }

// RunBy is the project whose pipeline runs the job of n.
func (n Note) RunBy() string { return cmp.Or(n.Caller, n.Project) }

// CallerOf is the Caller field for a file of project fileProject in a
// job of caller: "" when they are the same project.
func CallerOf(fileProject, caller string) string {
	if fileProject == "" || strings.EqualFold(fileProject, caller) {
		return ""
	}
	return caller
}

// Owner renders a file's project for reports: "platform/templates (for
// apps/web)" when another project's pipeline runs it.
func Owner(project, caller string) string {
	if caller == "" {
		return project
	}
	return project + " (for " + caller + ")"
}
