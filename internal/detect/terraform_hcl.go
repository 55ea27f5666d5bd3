package detect

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Terraform configuration read with HCL's own native-syntax parser
// (github.com/hashicorp/hcl/v2/hclsyntax), as Terraform reads it, instead
// of line patterns: blocks and attributes wherever the author's layout
// puts them (one line, comments, heredocs, nested objects). Only the
// parts the Terraform detector needs are kept: the backend "http" block
// (https://developer.hashicorp.com/terraform/language/backend/http),
// module sources
// (https://developer.hashicorp.com/terraform/language/modules/sources#terraform-registry)
// and terraform_remote_state data sources
// (https://developer.hashicorp.com/terraform/language/state/remote-state-data).
// A file HCL cannot parse yields what was parsed before the error.

// tfAttr is one attribute: its source text, line, and its value when it
// is a constant string.
type tfAttr struct {
	name   string
	text   string // the expression as written
	line   int
	value  string // the constant string value
	static bool   // value is known without evaluation
	// roots are the variable roots the expression refers to ("var",
	// "local", "env", ...), in order of appearance.
	roots []string
	// varName is X when the expression is exactly var.X.
	varName string
}

// tfModuleSource is a module block's source.
type tfModuleSource struct {
	name, source string
	line         int
}

// tfRemoteStateHCL is a data "terraform_remote_state" block.
type tfRemoteStateHCL struct {
	name    string
	backend tfAttr
	config  map[string]tfAttr // the config object's keys
}

// tfConfig is what one .tf file holds for the detector.
type tfConfig struct {
	// httpBackend holds the attributes of a backend "http" block, in line
	// order; nil when the file has none.
	httpBackend []tfAttr
	modules     []tfModuleSource
	remote      []tfRemoteStateHCL
}

// parseTF parses a .tf file.
func parseTF(name string, src []byte) tfConfig {
	var cfg tfConfig
	f, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if f == nil {
		return cfg
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return cfg
	}
	for _, b := range body.Blocks {
		switch {
		case b.Type == "terraform":
			for _, bb := range b.Body.Blocks {
				if bb.Type == "backend" && len(bb.Labels) == 1 && bb.Labels[0] == "http" {
					cfg.httpBackend = tfAttrs(src, bb.Body)
				}
			}
		case b.Type == "module" && len(b.Labels) == 1:
			if a, ok := b.Body.Attributes["source"]; ok {
				if at := tfAttrOf(src, "source", a.Expr); at.static {
					cfg.modules = append(cfg.modules, tfModuleSource{name: b.Labels[0], source: at.value, line: at.line})
				}
			}
		case b.Type == "data" && len(b.Labels) == 2 && b.Labels[0] == "terraform_remote_state":
			r := tfRemoteStateHCL{name: b.Labels[1], config: map[string]tfAttr{}}
			if a, ok := b.Body.Attributes["backend"]; ok {
				r.backend = tfAttrOf(src, "backend", a.Expr)
			}
			if a, ok := b.Body.Attributes["config"]; ok {
				if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
					for _, it := range obj.Items {
						k := hcl.ExprAsKeyword(it.KeyExpr)
						if k == "" {
							if v, d := it.KeyExpr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() {
								k = v.AsString()
							}
						}
						if k != "" {
							r.config[k] = tfAttrOf(src, k, it.ValueExpr)
						}
					}
				}
			}
			cfg.remote = append(cfg.remote, r)
		}
	}
	return cfg
}

// tfAttrs returns a body's attributes in line order.
func tfAttrs(src []byte, body *hclsyntax.Body) []tfAttr {
	var out []tfAttr
	for name, a := range body.Attributes {
		out = append(out, tfAttrOf(src, name, a.Expr))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out
}

// tfAttrOf describes one expression.
func tfAttrOf(src []byte, name string, e hclsyntax.Expression) tfAttr {
	r := e.Range()
	a := tfAttr{name: name, line: r.Start.Line}
	if r.Start.Byte >= 0 && r.End.Byte <= len(src) && r.Start.Byte <= r.End.Byte {
		a.text = string(src[r.Start.Byte:r.End.Byte])
	}
	for _, t := range e.Variables() {
		a.roots = append(a.roots, t.RootName())
	}
	if st, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 2 && st.Traversal.RootName() == "var" {
		if attr, ok := st.Traversal[1].(hcl.TraverseAttr); ok {
			a.varName = attr.Name
		}
	}
	if len(a.roots) == 0 {
		if v, d := e.Value(nil); !d.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			a.value, a.static = v.AsString(), true
		}
	}
	return a
}

// hasRoot reports whether the expression refers to a variable root.
func (a tfAttr) hasRoot(names ...string) bool {
	for _, r := range a.roots {
		for _, n := range names {
			if r == n {
				return true
			}
		}
	}
	return false
}

// tfTopAttrs returns the top-level attributes of an HCL file (a
// -backend-config file: address = "…", password = "…"), in line order.
func tfTopAttrs(name string, src []byte) []tfAttr {
	f, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if f == nil {
		return nil
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	return tfAttrs(src, body)
}
