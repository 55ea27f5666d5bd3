package sim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// sinceTable holds the GitLab release each schema element appeared in,
// read from the "# since X.Y" notes of gitlab.graphql: on the element's
// line, or in the comment block right above it. Keys are "Type.field",
// "Type.field(arg)", "Input.field" and "Enum.VALUE". Elements without a
// note (or with "before X.Y") exist in every simulated version.
type sinceTable map[string]version

var sinceRe = regexp.MustCompile(`(deprecated )?since (\d+)\.(\d+)`)

func buildSinceTable(s *ast.Schema) sinceTable {
	lines := strings.Split(schema.SDL(), "\n")
	t := sinceTable{}
	note := func(key string, pos *ast.Position) {
		if pos == nil || pos.Src == nil || pos.Src.Name != "gitlab.graphql" {
			return
		}
		if v, ok := sinceAt(lines, pos.Line-1); ok {
			t[key] = v
		}
	}
	for _, def := range s.Types {
		for _, f := range def.Fields {
			note(def.Name+"."+f.Name, f.Position)
			for _, a := range f.Arguments {
				note(def.Name+"."+f.Name+"("+a.Name+")", a.Position)
			}
		}
		for _, e := range def.EnumValues {
			note(def.Name+"."+e.Name, e.Position)
		}
	}
	return t
}

// sinceAt reads the note for line i: its own trailing comment if it has
// one, else the comment lines right above it.
func sinceAt(lines []string, i int) (version, bool) {
	if i < 0 || i >= len(lines) {
		return version{}, false
	}
	if _, comment, ok := strings.Cut(lines[i], "#"); ok {
		return parseSince(comment)
	}
	start := i
	for start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), "#") {
		start--
	}
	for j := start; j < i; j++ {
		if v, ok := parseSince(lines[j]); ok {
			return v, true
		}
	}
	return version{}, false
}

func parseSince(comment string) (version, bool) {
	for _, m := range sinceRe.FindAllStringSubmatch(comment, -1) {
		if m[1] != "" {
			continue // "deprecated since": still there
		}
		major, _ := strconv.Atoi(m[2])
		minor, _ := strconv.Atoi(m[3])
		return version{major, minor}, true
	}
	return version{}, false
}

func (t sinceTable) missing(key string, v version) bool {
	since, ok := t[key]
	return ok && !v.atLeast(since.major, since.minor)
}

// gateDocument refuses what the simulated version does not have yet, with
// graphql-ruby's static validation messages, as an older GitLab would.
func (g *graphqlEndpoint) gateDocument(doc *ast.QueryDocument) []gqlErr {
	var errs []gqlErr
	v := g.s.beh.version
	var walkValue func(val *ast.Value, argName, owner string)
	walkValue = func(val *ast.Value, argName, owner string) {
		if val == nil {
			return
		}
		switch val.Kind {
		case ast.ObjectValue:
			for _, c := range val.Children {
				if val.Definition != nil && g.since.missing(val.Definition.Name+"."+c.Name, v) {
					errs = append(errs, gqlErr{
						Message:    fmt.Sprintf("InputObject '%s' doesn't accept argument '%s'", val.Definition.Name, c.Name),
						Locations:  locations(c.Position),
						Extensions: map[string]any{"code": "argumentNotAccepted", "name": val.Definition.Name, "typeName": "InputObject", "argumentName": c.Name},
					})
					continue
				}
				walkValue(c.Value, c.Name, "InputObject '"+defName(val.Definition)+"'")
			}
		case ast.ListValue:
			for _, c := range val.Children {
				walkValue(c.Value, argName, owner)
			}
		case ast.EnumValue:
			if val.Definition != nil && g.since.missing(val.Definition.Name+"."+val.Raw, v) {
				errs = append(errs, gqlErr{
					Message:    fmt.Sprintf("Argument '%s' on %s has an invalid value (%s). Expected type '%s'.", argName, owner, val.Raw, val.Definition.Name),
					Locations:  locations(val.Position),
					Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
				})
			}
		}
	}
	visitFields(doc, func(f *ast.Field) {
		if f.Definition == nil || f.ObjectDefinition == nil {
			return
		}
		parent := f.ObjectDefinition.Name
		if g.since.missing(parent+"."+f.Name, v) {
			errs = append(errs, gqlErr{
				Message:    fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, parent),
				Locations:  locations(f.Position),
				Extensions: map[string]any{"code": "undefinedField", "typeName": parent, "fieldName": f.Name},
			})
			return
		}
		for _, a := range f.Arguments {
			if g.since.missing(parent+"."+f.Name+"("+a.Name+")", v) {
				errs = append(errs, gqlErr{
					Message:    fmt.Sprintf("Field '%s' doesn't accept argument '%s'", f.Name, a.Name),
					Locations:  locations(a.Position),
					Extensions: map[string]any{"code": "argumentNotAccepted", "name": f.Name, "typeName": "Field", "argumentName": a.Name},
				})
				continue
			}
			walkValue(a.Value, a.Name, "Field '"+f.Name+"'")
		}
	})
	return errs
}

func defName(d *ast.Definition) string {
	if d == nil {
		return ""
	}
	return d.Name
}

// gateVariables refuses variable values the simulated version does not
// know (input fields, enum values), with graphql-ruby's variable message.
func (g *graphqlEndpoint) gateVariables(op *ast.OperationDefinition, vars map[string]any) []gqlErr {
	var errs []gqlErr
	v := g.s.beh.version
	for _, vd := range op.VariableDefinitions {
		val, ok := vars[vd.Variable]
		if !ok {
			continue
		}
		var walk func(typ *ast.Type, val any, path string) string
		walk = func(typ *ast.Type, val any, path string) string {
			if val == nil {
				return ""
			}
			if typ.Elem != nil {
				list, _ := val.([]any)
				for i, x := range list {
					if p := walk(typ.Elem, x, joinPath(path, strconv.Itoa(i))); p != "" {
						return p
					}
				}
				return ""
			}
			def := g.schema.Types[typ.NamedType]
			if def == nil {
				return ""
			}
			switch def.Kind {
			case ast.InputObject:
				m, _ := val.(map[string]any)
				for _, f := range def.Fields {
					x, present := m[f.Name]
					if !present {
						continue
					}
					if g.since.missing(def.Name+"."+f.Name, v) {
						return fmt.Sprintf("for %s (Field is not defined on %s)", joinPath(path, f.Name), def.Name)
					}
					if p := walk(f.Type, x, joinPath(path, f.Name)); p != "" {
						return p
					}
				}
			case ast.Enum:
				if s, ok := val.(string); ok && g.since.missing(def.Name+"."+s, v) {
					return fmt.Sprintf("for %s (Expected %q to be one of: %s)", path, s, strings.Join(g.enumValues(def), ", "))
				}
			}
			return ""
		}
		if problem := walk(vd.Type, val, ""); problem != "" {
			errs = append(errs, gqlErr{
				Message:   fmt.Sprintf("Variable $%s of type %s was provided invalid value %s", vd.Variable, vd.Type.String(), strings.TrimSpace(problem)),
				Locations: locations(vd.Position),
			})
		}
	}
	return errs
}

func joinPath(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

// enumValues lists the values the simulated version has.
func (g *graphqlEndpoint) enumValues(def *ast.Definition) []string {
	var out []string
	for _, e := range def.EnumValues {
		if !g.since.missing(def.Name+"."+e.Name, g.s.beh.version) {
			out = append(out, e.Name)
		}
	}
	return out
}

// visitFields calls f for every field of the document's operations and
// fragments.
func visitFields(doc *ast.QueryDocument, f func(*ast.Field)) {
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch n := sel.(type) {
			case *ast.Field:
				f(n)
				walk(n.SelectionSet)
			case *ast.InlineFragment:
				walk(n.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, fr := range doc.Fragments {
		walk(fr.SelectionSet)
	}
}

func locations(pos *ast.Position) []gqlLoc {
	if pos == nil {
		return nil
	}
	return []gqlLoc{{Line: pos.Line, Column: pos.Column}}
}
