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
	switch f.Name {
	case "ciJobTokenScopeAddGroupOrProject":
		return ec.addGroupOrProject(in)
	case "ciJobTokenScopeAddProject":
		return ec.addProject(in)
	case "ciJobTokenScopeRemoveProject":
		return ec.removeProject(in)
	case "ciJobTokenScopeRemoveGroup":
		return ec.removeGroup(in)
	case "ciJobTokenScopeUpdatePolicies":
		return ec.updatePolicies(in)
	case "ciJobTokenScopeAutopopulateAllowlist":
		return ec.autopopulate(in)
	case "ciJobTokenScopeClearAllowlistAutopopulations":
		return ec.clearAutopopulations(in)
	case "projectCiCdSettingsUpdate":
		return ec.ciCdSettingsUpdate(in)
	}
	return nil, unknownField(mutationRoot{}, f)
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

func boolOr(v any, def bool) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	return def
}

func (ec *execCtx) addGroupOrProject(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	target := str(in["targetPath"])
	defaultPermissions := boolOr(in["defaultPermissions"], true)
	policies := strList(in["jobTokenPolicies"])
	var l *link
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
	return result("CiJobTokenScopeAddGroupOrProjectPayload", err, map[string]any{
		"ciJobTokenScope":               &scopeObj{src},
		"ciJobTokenScopeAllowlistEntry": &entryObj{src: src, l: l, group: isGroup},
	}), nil
}

func (ec *execCtx) addProject(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	var l *link
	if t := ec.st.project(str(in["targetProjectPath"])); t != nil {
		l, err = ec.s.addProjectLink(ec.u, src, t, true, nil)
	} else {
		err = fail(msgTargetProjectNA)
	}
	return result("CiJobTokenScopeAddProjectPayload", err, map[string]any{
		"ciJobTokenScope":               &scopeObj{src},
		"ciJobTokenScopeAllowlistEntry": &entryObj{src: src, l: l},
	}), nil
}

// removeProject defaults direction to OUTBOUND, as GitLab's mutation still
// does: removing an inbound entry needs direction: INBOUND.
func (ec *execCtx) removeProject(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	outbound := str(in["direction"]) != "INBOUND"
	err = ec.s.removeProjectLink(ec.u, src, ec.st.project(str(in["targetProjectPath"])), outbound)
	return result("CiJobTokenScopeRemoveProjectPayload", err, map[string]any{
		"ciJobTokenScope": &scopeObj{src}, "ciJobTokenScopeAllowlistEntry": nil,
	}), nil
}

func (ec *execCtx) removeGroup(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	err = ec.s.removeGroupLink(ec.u, src, ec.st.group(str(in["targetGroupPath"])))
	return result("CiJobTokenScopeRemoveGroupPayload", err, map[string]any{
		"ciJobTokenScope": &scopeObj{src}, "ciJobTokenScopeAllowlistEntry": nil,
	}), nil
}

// msgPoliciesFlag is raised (top-level) while add_policies_to_ci_job_token
// is off, before 18.3.
const msgPoliciesFlag = "`add_policies_to_ci_job_token` feature flag is disabled."

func (ec *execCtx) updatePolicies(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
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
func (ec *execCtx) autopopulate(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
	clearAutopopulated(src)
	var add []int
	for _, r := range src.authLog {
		if r.originID != src.id && src.findProjectLink(r.originID) == nil && !slices.Contains(add, r.originID) {
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

func (ec *execCtx) clearAutopopulations(in map[string]any) (any, error) {
	src, err := ec.authorizedFind(in["projectPath"])
	if err != nil {
		return nil, err
	}
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
