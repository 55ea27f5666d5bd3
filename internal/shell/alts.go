package shell

import (
	"mvdan.cc/sh/v3/syntax"
)

// Values a variable may hold after branches (issue: only one branch's
// value used to survive an if/elif/else or case).
//
//	case "$CI_COMMIT_BRANCH" in
//	  main) TARGET=group/prod ;;
//	  *)    TARGET=group/staging ;;
//	esac
//	git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.com/$TARGET.git"
//
// clones either project; both must be reported. The variable keeps one
// primary value (the rule documented on Analyze) and lists the others as
// alternatives, each tagged with the branch construct (group) and the
// branch that gave it, so that variables assigned together in one branch
// stay together. A simple command using a variable with alternatives is
// analysed once more per alternative branch ("world"): its commands are
// returned again with those values, and the variables it assigns gain the
// alternative values it computes (URL="https://h/$TARGET.git" carries
// both). Worlds of different constructs are not combined (no guessed
// combinations), and the counts are bounded.

// altVal is one alternative value of a variable.
type altVal struct {
	grp, br int // the branch construct and the branch within it
	w       Word
}

const (
	maxAlts   = 8 // alternative values one variable keeps
	maxWorlds = 8 // extra analyses of one simple command
)

// mergeAlts returns the alternatives of name after branches: those pick
// already had, and the value of every other live branch (or the value
// before, for a branch that did not assign it) that differs from pick's.
// Only fully known scalar values count: an unknown alternative would only
// add an unresolved reference.
func (a *analyzer) mergeAlts(grp int, name string, pick *variable, pickIdx int, live []*shState, prev variable, prevKnown bool) []altVal {
	if pick.isArray || pick.state != varSet {
		return nil
	}
	alts := append([]altVal(nil), pick.alts...)
	add := func(v altVal) {
		if len(alts) >= maxAlts || v.w.Value == pick.value || len(v.w.Unknown) > 0 {
			return
		}
		for _, o := range alts {
			if o.grp == v.grp && o.br == v.br {
				return
			}
		}
		alts = append(alts, v)
	}
	for i, b := range live {
		if i == pickIdx {
			continue
		}
		switch {
		case b.log.seen[name]:
			v, ok := b.env.lookup(name)
			if !ok || v.state != varSet || v.isArray {
				continue
			}
			add(altVal{grp, i, v.word()})
			for _, in := range v.alts {
				add(in)
			}
		case prevKnown:
			add(altVal{grp, i, prev.word()})
		}
	}
	if len(alts) > 0 {
		a.altsLive = true
	}
	return alts
}

// world is one alternative branch: the values it gives the variables a
// command uses.
type world struct {
	grp, br int
	names   []string
	vals    []Word
}

// worlds lists the alternative branches relevant to the variables s uses.
func (a *analyzer) worlds(st *shState, s *syntax.Stmt) []world {
	var out []world
	seen := map[string]bool{}
	syntax.Walk(s, func(n syntax.Node) bool {
		pe, ok := n.(*syntax.ParamExp)
		if !ok || pe.Param == nil || seen[pe.Param.Value] {
			return true
		}
		name := pe.Param.Value
		seen[name] = true
		v, ok := st.env.lookup(name)
		if !ok || len(v.alts) == 0 || v.isArray {
			return true
		}
		for _, alt := range v.alts {
			i := 0
			for i < len(out) && (out[i].grp != alt.grp || out[i].br != alt.br) {
				i++
			}
			if i == len(out) {
				if len(out) >= maxWorlds {
					continue
				}
				out = append(out, world{grp: alt.grp, br: alt.br})
			}
			out[i].names = append(out[i].names, name)
			out[i].vals = append(out[i].vals, alt.w)
		}
		return true
	})
	return out
}

// fanOut runs a simple command, then once more per alternative branch of
// the variables it uses (see the comment at the top of this file).
func (a *analyzer) fanOut(st *shState, ctx *srcCtx, s *syntax.Stmt) flow {
	if !a.altsLive || a.fanning || a.capture != nil {
		return a.command(st, ctx, s)
	}
	switch c := s.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Args) > 0 {
			switch c.Args[0].Lit() {
			case "cd", "pushd", "popd":
				// The detectors replay directory changes in order: a
				// second cd would move every later command.
				return a.command(st, ctx, s)
			}
		}
	case *syntax.DeclClause:
	default:
		return a.command(st, ctx, s)
	}
	ws := a.worlds(st, s)
	if len(ws) == 0 {
		return a.command(st, ctx, s)
	}
	pre := st.env.freeze()
	base := *st
	// Nested commands (a function's body called here) see the values of
	// the world already: they are not fanned out again.
	a.fanning = true
	defer func() { a.fanning = false }()
	f := a.command(st, ctx, s)
	for _, w := range ws {
		if a.halted {
			break
		}
		b := base
		env := pre
		for i, name := range w.names {
			old, _ := pre.lookup(name)
			env = env.set(name, &variable{value: w.vals[i].Value, unknown: w.vals[i].Unknown, exported: old.exported})
		}
		b.env = env
		b.log = &writeLog{}
		a.inWorld = true
		a.command(&b, ctx, s)
		a.inWorld = false
		for _, n := range b.log.names {
			v, ok := b.env.lookup(n)
			if !ok || v.state != varSet || v.isArray || len(v.unknown) > 0 {
				continue
			}
			cur, ok := st.env.lookup(n)
			if !ok || cur.isArray || cur.state != varSet || cur.value == v.value || len(cur.alts) >= maxAlts {
				continue
			}
			nv := cur
			nv.alts = append(append([]altVal(nil), cur.alts...), altVal{w.grp, w.br, v.word()})
			st.setVar(n, &nv)
		}
	}
	return f
}
