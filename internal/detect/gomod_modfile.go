package detect

import "golang.org/x/mod/modfile"

// goModRequires reads the modules a go.mod makes the go command fetch,
// with the Go team's own parser (golang.org/x/mod/modfile; lax mode,
// which skips unknown directives, when strict parsing fails). A replace
// directive changes what is fetched
// (https://go.dev/ref/mod#go-mod-file-replace): "old => new v" fetches
// new at v (reported at the replace line), "old => ./dir" fetches
// nothing. A go.mod that does not parse yields nothing.
func goModRequires(name string, data []byte) []goRequire {
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		// Directives of a newer Go than x/mod knows: lax mode skips
		// them (and replace directives with them).
		if f, err = modfile.ParseLax(name, data, nil); err != nil {
			return nil
		}
	}
	type key struct{ path, version string }
	repl := map[key]*modfile.Replace{}
	for _, r := range f.Replace {
		repl[key{r.Old.Path, r.Old.Version}] = r
	}
	var out []goRequire
	for _, r := range f.Require {
		mod, ver, line := r.Mod.Path, r.Mod.Version, 0
		if r.Syntax != nil {
			line = r.Syntax.Start.Line
		}
		rep, ok := repl[key{mod, ver}]
		if !ok {
			rep, ok = repl[key{mod, ""}]
		}
		if ok {
			if rep.New.Version == "" {
				continue // a local folder
			}
			mod, ver = rep.New.Path, rep.New.Version
			if rep.Syntax != nil {
				line = rep.Syntax.Start.Line
			}
		}
		out = append(out, goRequire{mod: mod, version: ver, line: line})
	}
	return out
}
