package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The job token mutations (app/graphql/mutations/ci/job_token_scope/*.rb
// and ProjectCiCdSettingsUpdate). A missing project or missing
// admin_project is a top-level error (authorized_find!); service failures
// come back in the payload's errors with the other fields null.

type mutationRoot struct{}

func (mutationRoot) typeName() string { return "Mutation" }

func (mutationRoot) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	if f.Name == "projectCiCdSettingsUpdate" {
		return ec.ciCdSettingsUpdate(in)
	}
	m, ok := scopeMutations[f.Name]
	if !ok {
		return nil, unknownField(mutationRoot{}, f)
	}
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	return m(ec, src, in)
}

// scopeMutations change the job token scope of the input's projectPath,
// which the root finds first. projectCiCdSettingsUpdate is not one: it
// names the project fullPath and checks its input before the lookup.
var scopeMutations = map[string]func(ec *execCtx, src *project, in map[string]any) (any, error){
	"ciJobTokenScopeAddGroupOrProject":             (*execCtx).addGroupOrProject,
	"ciJobTokenScopeAddProject":                    (*execCtx).addProject,
	"ciJobTokenScopeRemoveProject":                 (*execCtx).removeProject,
	"ciJobTokenScopeRemoveGroup":                   (*execCtx).removeGroup,
	"ciJobTokenScopeUpdatePolicies":                (*execCtx).updatePolicies,
	"ciJobTokenScopeAutopopulateAllowlist":         (*execCtx).autopopulate,
	"ciJobTokenScopeClearAllowlistAutopopulations": (*execCtx).clearAutopopulations,
}

// authorizedFind is authorized_find! with admin_project.
func (ec *execCtx) authorizedFind(path any) (*project, error) {
	p := ec.st.project(str(path))
	if p == nil || !canRead(ec.u, p) || !canAdmin(ec.u, p) {
		return nil, errNotAvailable()
	}
	return p, nil
}

// result builds a payload: on failure errors holds the message and every
// other field is null.
func result(name string, err error, fields map[string]any) *payload {
	if err != nil {
		nulls := map[string]any{"errors": []string{err.Error()}, "clientMutationId": nil}
		for k := range fields {
			nulls[k] = nil
		}
		return &payload{name: name, fields: nulls}
	}
	fields["errors"] = []string{}
	fields["clientMutationId"] = nil
	return &payload{name: name, fields: fields}
}

// scopePayload is the payload of the add and remove mutations: the scope
// and the entry added or removed.
func scopePayload(name string, src *project, err error, entry any) *payload {
	return result(name, err, map[string]any{"ciJobTokenScope": &scopeObj{src}, "ciJobTokenScopeAllowlistEntry": entry})
}

func boolOr(v any, def bool) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	return def
}

func (ec *execCtx) addGroupOrProject(src *project, in map[string]any) (any, error) {
	target := str(in["targetPath"])
	defaultPermissions := boolOr(in["defaultPermissions"], true)
	policies := strList(in["jobTokenPolicies"])
	var l *link
	var err error
	isGroup := false
	// Group first, then project (find_target_path).
	switch g, p := ec.st.group(target), ec.st.project(target); {
	case g != nil:
		isGroup = true
		l, err = ec.s.addGroupLink(ec.u, src, g, defaultPermissions, policies)
	case p != nil:
		l, err = ec.s.addProjectLink(ec.u, src, p, defaultPermissions, policies)
	default:
		err = fail("The group or project does not exist.")
	}
	return scopePayload("CiJobTokenScopeAddGroupOrProjectPayload", src, err, &entryObj{src: src, l: l, group: isGroup}), nil
}

// msgOutboundAdd is the ArgumentError AddProject raises for direction:
// OUTBOUND (app/graphql/mutations/ci/job_token_scope/add_project.rb, since
// the argument's deprecation in 16.0): the outbound scope can only shrink.
const msgOutboundAdd = "direction: OUTBOUND scope entries can only be removed. Only INBOUND scope can be expanded."

func (ec *execCtx) addProject(src *project, in map[string]any) (any, error) {
	if str(in["direction"]) == "OUTBOUND" && ec.s.beh.version.atLeast(16, 0) {
		return nil, &fieldError{msg: msgOutboundAdd}
	}
	var l *link
	var err error
	if t := ec.st.project(str(in["targetProjectPath"])); t != nil {
		l, err = ec.s.addProjectLink(ec.u, src, t, true, nil)
	} else {
		err = fail(msgTargetProjectNA)
	}
	return scopePayload("CiJobTokenScopeAddProjectPayload", src, err, &entryObj{src: src, l: l}), nil
}

// removeProject defaults direction to OUTBOUND, as GitLab's mutation still
// does: removing an inbound entry needs direction: INBOUND. On success the
// payload carries the removed entry (ci_job_token_scope_allowlist_entry:
// result.payload in app/graphql/mutations/ci/job_token_scope/remove_project.rb).
func (ec *execCtx) removeProject(src *project, in map[string]any) (any, error) {
	outbound := str(in["direction"]) != "INBOUND"
	l, err := ec.s.removeProjectLink(ec.u, src, ec.st.project(str(in["targetProjectPath"])), outbound)
	return scopePayload("CiJobTokenScopeRemoveProjectPayload", src, err, &entryObj{src: src, l: l}), nil
}

// removeGroup returns the removed entry like removeProject
// (app/graphql/mutations/ci/job_token_scope/remove_group.rb).
func (ec *execCtx) removeGroup(src *project, in map[string]any) (any, error) {
	l, err := ec.s.removeGroupLink(ec.u, src, ec.st.group(str(in["targetGroupPath"])))
	return scopePayload("CiJobTokenScopeRemoveGroupPayload", src, err, &entryObj{src: src, l: l, group: true}), nil
}

// msgPoliciesFlag is raised (top-level) while add_policies_to_ci_job_token
// is off, before 18.3.
const msgPoliciesFlag = "`add_policies_to_ci_job_token` feature flag is disabled."

func (ec *execCtx) updatePolicies(src *project, in map[string]any) (any, error) {
	if !ec.s.beh.policies {
		return nil, &fieldError{msg: msgPoliciesFlag}
	}
	target := str(in["targetPath"])
	g, p := ec.st.group(target), ec.st.project(target)
	if g != nil {
		p = nil
	}
	l, err := ec.s.updatePolicies(ec.u, src, p, g, boolOr(in["defaultPermissions"], true), strList(in["jobTokenPolicies"]))
	return result("CiJobTokenScopeUpdatePoliciesPayload", err, map[string]any{
		"ciJobTokenScopeAllowlistEntry": &entryObj{src: src, l: l, group: g != nil},
	}), nil
}

// autopopulate is ClearAutopopulatedAllowlistService then
// AutopopulateAllowlistService: every origin of the auth log becomes an
// autopopulated project entry. GitLab compacts more than 200 entries into
// groups; the simulator reports an error instead.
func (ec *execCtx) autopopulate(src *project, _ map[string]any) (any, error) {
	clearAutopopulated(src)
	var add []int
	for _, r := range src.authLog {
		if r.originID != src.id && findLink(src.projectLinks, r.originID) == nil && !slices.Contains(add, r.originID) {
			add = append(add, r.originID)
		}
	}
	if len(src.projectLinks)+len(add) > projectLinkLimit {
		return autopopulatePayload(fmt.Errorf("gitlab-sim: %d entries exceed %d; compaction into groups is not simulated", len(src.projectLinks)+len(add), projectLinkLimit)), nil
	}
	slices.Sort(add)
	for _, id := range add {
		l := ec.s.newLink(ec.u, id, true, nil)
		l.autopopulated = true
		src.projectLinks = append(src.projectLinks, l)
	}
	return autopopulatePayload(nil), nil
}

func (ec *execCtx) clearAutopopulations(src *project, _ map[string]any) (any, error) {
	clearAutopopulated(src)
	p := autopopulatePayload(nil)
	p.name = "CiJobTokenScopeClearAllowlistAutopopulationsPayload"
	return p, nil
}

func clearAutopopulated(src *project) {
	keep := func(ls []*link) []*link {
		return slices.DeleteFunc(ls, func(l *link) bool { return l.autopopulated })
	}
	src.projectLinks = keep(src.projectLinks)
	src.groupLinks = keep(src.groupLinks)
}

func autopopulatePayload(err error) *payload {
	p := &payload{name: "CiJobTokenScopeAutopopulateAllowlistPayload", fields: map[string]any{"status": "complete", "errors": []string{}, "clientMutationId": nil}}
	if err != nil {
		p.fields["status"] = "error"
		p.fields["errors"] = []string{err.Error()}
	}
	return p
}

// ciCdSettingsUpdate is ProjectCiCdSettingsUpdate: the settings come back
// even when the update fails.
func (ec *execCtx) ciCdSettingsUpdate(in map[string]any) (any, error) {
	if b, _ := in["jobTokenScopeEnabled"].(bool); b {
		return nil, &fieldError{msg: "job_token_scope_enabled can only be set to false"}
	}
	p, err := ec.authorizedFind(in["fullPath"])
	if err != nil {
		return nil, err
	}
	var errs []string
	if v, ok := in["inboundJobTokenScopeEnabled"].(bool); ok {
		if err := ec.s.setInbound(p, v); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if v, ok := in["pushRepositoryForJobTokenAllowed"].(bool); ok && len(errs) == 0 {
		p.pushAllowed = v
	}
	return &payload{name: "ProjectCiCdSettingsUpdatePayload", fields: map[string]any{
		"ciCdSettings": &ciCdSettingObj{p}, "errors": append([]string{}, errs...), "clientMutationId": nil,
	}}, nil
}

// isMutation reports whether the operation writes, which decides the lock.
func isMutation(op *ast.OperationDefinition) bool {
	return strings.EqualFold(string(op.Operation), string(ast.Mutation))
}
