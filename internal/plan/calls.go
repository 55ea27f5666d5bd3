package plan

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/capability"
)

// CallKind says what one GitLab call of a plan does.
type CallKind string

// Call kinds, as in the plan JSON.
const (
	CallAddProject     CallKind = "add-project"
	CallAddGroup       CallKind = "add-group"
	CallUpdatePolicies CallKind = "update-policies"
	CallRemoveProject  CallKind = "remove-project"
	CallRemoveGroup    CallKind = "remove-group"
	CallEnforce        CallKind = "enforce"
)

// GraphQLPath is the path of the GraphQL endpoint below the server URL.
const GraphQLPath = "api/graphql"

// GraphQL mutations the calls use
// (https://docs.gitlab.com/api/graphql/reference/#mutationcijobtokenscopeupdatepolicies
// and its neighbours).
const (
	MutationAdd            = "ciJobTokenScopeAddGroupOrProject"
	MutationUpdatePolicies = "ciJobTokenScopeUpdatePolicies"
	MutationRemoveProject  = "ciJobTokenScopeRemoveProject"
	MutationRemoveGroup    = "ciJobTokenScopeRemoveGroup"
)

// Call is one request that applying a project's plan makes: a REST call
// of the job token scope API, or a GraphQL mutation.
type Call struct {
	Kind   CallKind
	Method string
	// Path is below the server URL: "api/v4/projects/…" for REST, or
	// GraphQLPath.
	Path string
	// Mutation names the GraphQL mutation; "" for REST.
	Mutation string
	// Params are the REST form fields or the mutation's input fields, in
	// the order they are sent.
	Params []Param
	// Target is the entry the call adds, updates or removes; nil for
	// enforce.
	Target *Target
	// Policies are the fine-grained policies an update-policies call sets,
	// sorted; nil is default permissions.
	Policies []string
	// ByPath is set when the inventory lacks a numeric ID, so the call
	// names the projects by path through GraphQL.
	ByPath bool
	// Done lists response texts that mean the change is already made, so
	// that making the calls twice is harmless.
	Done []string
	// Unsupported says why the target GitLab version cannot make the call
	// ("" when it can); the call is still listed, for an upgrade.
	Unsupported string
}

// GraphQL reports whether the call is a GraphQL mutation.
func (c Call) GraphQL() bool { return c.Mutation != "" }

// Target is the allowlist entry a call is about.
type Target struct {
	Type EntryType
	Path string
	ID   int // 0 when the inventory does not know it
}

// Param is one parameter of a call. Value is a string, an int, a bool, an
// Enum or an []Enum (never nil).
type Param struct {
	Name  string
	Value any
}

// Enum is a GraphQL enum value: written without quotes in a query, as a
// string in JSON variables.
type Enum string

// Response texts of an already-made change: the newer wording first, then
// the older (GitLab renamed the "job token scope" to the "job token
// allowlist" in its messages).
var (
	doneAdd    = []string{"already in the job token allowlist", "already in the job token scope"}
	doneRemove = []string{"is not in the job token scope"}
)

// Calls are the GitLab calls that apply the project's plan on a GitLab
// with caps, in the order that never breaks a pipeline the plan keeps:
// entries first (each add, then its policies), then policy updates, then
// removals, and enforcement last, once everything approved is in.
//
// REST writes need numeric IDs (the POST and DELETE routes of
// https://docs.gitlab.com/api/project_job_token_scopes/ declare integer
// IDs); where the inventory lacks one, the path-based GraphQL mutation is
// used instead. Fine-grained policies are GraphQL only
// (https://docs.gitlab.com/api/graphql/reference/#mutationcijobtokenscopeupdatepolicies),
// and made only where the version has them. The list is never nil.
func (p Project) Calls(caps capability.Capabilities) []Call {
	calls := []Call{}
	for _, e := range p.Add {
		calls = append(calls, p.addCall(e, caps))
		if e.Policies != nil && caps.PoliciesUsable() {
			calls = append(calls, p.policyCall(e))
		}
	}
	for _, e := range p.Update {
		if caps.PoliciesUsable() {
			calls = append(calls, p.policyCall(e))
		}
	}
	for _, e := range p.Remove {
		calls = append(calls, p.removeCall(e))
	}
	if p.Enforce {
		calls = append(calls, Call{Kind: CallEnforce, Method: "PATCH", Path: p.restPath(""),
			Params: []Param{{"enabled", true}}, Done: []string{}})
	}
	for i := range calls {
		if calls[i].Unsupported == "" {
			calls[i].Unsupported = versionUnsupported(calls[i], caps)
		}
	}
	return calls
}

// Unsupported says why GitLab with caps cannot hold entry e, or "".
func Unsupported(e Entry, caps capability.Capabilities) string {
	if e.Type == GroupEntry && !caps.GroupEntries {
		return "group entries need GitLab 17.0"
	}
	return ""
}

// ref is the :id of the callee in a REST path: numeric, or the URL-encoded
// path (the GET and PATCH routes accept both).
func (p Project) ref() string {
	if p.ID != 0 {
		return fmt.Sprint(p.ID)
	}
	return url.PathEscape(p.Path)
}

// restPath is the REST path of the callee's job token scope, with tail.
func (p Project) restPath(tail string) string {
	return "api/v4/projects/" + p.ref() + "/job_token_scope" + tail
}

func target(e Entry) *Target { return &Target{Type: e.Type, Path: e.Path, ID: e.ID} }

func (p Project) addCall(e Entry, caps capability.Capabilities) Call {
	c := Call{Kind: CallAddProject, Method: "POST", Target: target(e), Done: slices.Clone(doneAdd), Unsupported: Unsupported(e, caps)}
	if e.Type == GroupEntry {
		c.Kind = CallAddGroup
	}
	switch {
	case p.ID == 0 || e.ID == 0:
		c.Path, c.Mutation, c.ByPath = GraphQLPath, MutationAdd, true
		c.Params = []Param{{"projectPath", p.Path}, {"targetPath", e.Path}}
	case e.Type == GroupEntry:
		c.Path = p.restPath("/groups_allowlist")
		c.Params = []Param{{"target_group_id", e.ID}}
	default:
		c.Path = p.restPath("/allowlist")
		c.Params = []Param{{"target_project_id", e.ID}}
	}
	return c
}

// policyCall sets e's policies: the mutation takes the policies as enum
// values (READ_JOBS), and an empty list with defaultPermissions: true for
// default permissions.
func (p Project) policyCall(e Entry) Call {
	enum := make([]Enum, len(e.Policies))
	for i, pol := range e.Policies {
		enum[i] = Enum(strings.ToUpper(pol))
	}
	return Call{Kind: CallUpdatePolicies, Method: "POST", Path: GraphQLPath, Mutation: MutationUpdatePolicies,
		Params: []Param{{"projectPath", p.Path}, {"targetPath", e.Path}, {"defaultPermissions", e.Policies == nil}, {"jobTokenPolicies", enum}},
		Target: target(e), Policies: e.Policies, Done: []string{}}
}

func (p Project) removeCall(e Entry) Call {
	c := Call{Kind: CallRemoveProject, Method: "DELETE", Target: target(e), Done: slices.Clone(doneRemove)}
	if e.Type == GroupEntry {
		c.Kind = CallRemoveGroup
	}
	switch {
	case (p.ID == 0 || e.ID == 0) && e.Type == GroupEntry:
		c.Method, c.Path, c.Mutation, c.ByPath = "POST", GraphQLPath, MutationRemoveGroup, true
		c.Params = []Param{{"projectPath", p.Path}, {"targetGroupPath", e.Path}}
	case p.ID == 0 || e.ID == 0:
		// The mutation's direction defaults to OUTBOUND: an inbound entry
		// is removed only with direction: INBOUND
		// (https://docs.gitlab.com/api/graphql/reference/#mutationcijobtokenscoperemoveproject).
		c.Method, c.Path, c.Mutation, c.ByPath = "POST", GraphQLPath, MutationRemoveProject, true
		c.Params = []Param{{"projectPath", p.Path}, {"targetProjectPath", e.Path}, {"direction", Enum("INBOUND")}}
	case e.Type == GroupEntry:
		c.Path = p.restPath(fmt.Sprintf("/groups_allowlist/%d", e.ID))
		c.Params = []Param{}
	default:
		c.Path = p.restPath(fmt.Sprintf("/allowlist/%d", e.ID))
		c.Params = []Param{}
	}
	return c
}
