package ciconfig

// maxScriptNesting is Entry::Commands::MAX_NESTING_LEVEL: a script is a
// string or a nested array of strings up to 10 levels deep. Nested arrays
// come from anchors and !reference; GitLab flattens them in order.
const maxScriptNesting = 10

// scripts flattens one script section into items with their positions.
func (l *loader) scripts(job, section string, v *node) []Script {
	if v == nil || v.isNull() {
		return nil
	}
	f := &flattener{l: l, job: job, section: section}
	switch v.kind {
	case kScalar:
		f.item(v)
	case kSeq:
		if !f.seq(v, 1) {
			return nil
		}
	default:
		l.errorAt(v.pos(), "write the script as a string or a list of strings",
			"%s %s: config should be a string or a nested array of strings up to %d levels deep", job, section, maxScriptNesting)
		return nil
	}
	return f.out
}

type flattener struct {
	l             *loader
	job, section  string
	out           []Script
	warnedNonText bool
}

func (f *flattener) seq(v *node, level int) bool {
	if level > maxScriptNesting {
		f.l.errorAt(v.pos(), "flatten the script: anchors and !reference each add a level of nesting",
			"%s %s: config should be a string or a nested array of strings up to %d levels deep (nesting too deep)", f.job, f.section, maxScriptNesting)
		return false
	}
	for _, it := range v.items {
		switch it.kind {
		case kSeq:
			if !f.seq(it, level+1) {
				return false
			}
		case kScalar:
			if !f.item(it) {
				return false
			}
		case kNull:
			// An empty item (a failed !reference was already reported).
		default:
			f.l.errorAt(it.pos(), "quote the line: an unquoted `key: value` inside a script item is read as a mapping",
				"%s %s: an item is a mapping, not a command", f.job, f.section)
		}
	}
	return true
}

func (f *flattener) item(n *node) bool {
	if !f.l.produce(1, n.pos()) {
		return false
	}
	if n.typ != tStr && !f.warnedNonText {
		f.warnedNonText = true
		f.l.warnAt(n.pos(), "quote the item", "%s %s: item `%s` is not a string (GitLab expects strings)", f.job, f.section, n.str)
	}
	f.out = append(f.out, scriptOf(n))
	return true
}

// scriptOf places a script item: block scalars start on the line after
// their indicator; literal blocks map line for line, folded blocks and
// multi-line plain or quoted scalars all map to their first line.
func scriptOf(n *node) Script {
	pos := n.pos()
	step := 1
	switch n.style {
	case sLiteral:
		pos.Line++
	case sFolded:
		pos.Line++
		step = 0
	default:
		if n.multiline {
			step = 0
		}
	}
	return Script{Text: n.str, Pos: pos, LineStep: step}
}
