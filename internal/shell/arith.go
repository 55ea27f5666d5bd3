package shell

import (
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// arithWord evaluates $((...)): the number, or the source text with the
// unknown names when it cannot be computed.
func (e *expander) arithWord(x *syntax.ArithmExp) Word {
	e.arithUnknown = nil
	v, ok := e.arith(x.X)
	if ok {
		return Word{Value: strconv.FormatInt(v, 10)}
	}
	u := e.arithUnknown
	if len(u) == 0 {
		u = []string{"$((...))"}
	}
	return Word{Value: e.ctx.raw(x), Unknown: u}
}

// arith evaluates an arithmetic expression as bash does (64-bit
// integers), applying its assignments. ok is false when a value is
// unknown or the expression is invalid (division by zero...).
func (e *expander) arith(x syntax.ArithmExpr) (int64, bool) {
	e.a.steps++
	switch x := x.(type) {
	case nil:
		return 0, true
	case *syntax.Word:
		return e.arithOperand(x)
	case *syntax.ParenArithm:
		return e.arith(x.X)
	case *syntax.UnaryArithm:
		return e.unary(x)
	case *syntax.BinaryArithm:
		return e.binary(x)
	}
	return 0, false
}

// arithOperand evaluates a number or a variable name.
func (e *expander) arithOperand(w *syntax.Word) (int64, bool) {
	if name := w.Lit(); syntax.ValidName(name) {
		return e.arithVar(name, 0)
	}
	s := e.str(w)
	if !s.Known() {
		for _, u := range s.Unknown {
			e.arithUnknown = addName(e.arithUnknown, u)
		}
		return 0, false
	}
	return e.arithValue(s.Value, 0)
}

// arithVar reads a variable as a number: its value is itself an
// expression in bash; names are followed a few levels.
func (e *expander) arithVar(name string, depth int) (int64, bool) {
	v, ok := e.st.env.lookup(name)
	if !ok {
		e.arithUnknown = addName(e.arithUnknown, name)
		return 0, false
	}
	if v.state != varSet {
		return 0, true
	}
	w := v.word()
	if !w.Known() {
		for _, u := range w.Unknown {
			e.arithUnknown = addName(e.arithUnknown, u)
		}
		return 0, false
	}
	return e.arithValue(w.Value, depth+1)
}

func (e *expander) arithValue(s string, depth int) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	if syntax.ValidName(s) && depth < 4 {
		return e.arithVar(s, depth)
	}
	return parseArithInt(s)
}

// parseArithInt parses bash integer constants: 10, 0x1f, 017, 2#101.
func parseArithInt(s string) (int64, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	var v int64
	var err error
	if b, digits, ok := strings.Cut(s, "#"); ok {
		base, berr := strconv.Atoi(b)
		if berr != nil || base < 2 || base > 36 {
			return 0, false
		}
		v, err = strconv.ParseInt(digits, base, 64)
	} else {
		v, err = strconv.ParseInt(s, 0, 64)
		if err != nil && len(s) > 1 && s[0] == '0' {
			v, err = strconv.ParseInt(s[1:], 8, 64)
		}
	}
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func (e *expander) setArith(x syntax.ArithmExpr, v int64) bool {
	w, ok := x.(*syntax.Word)
	if !ok {
		return false
	}
	name := w.Lit()
	if !syntax.ValidName(name) {
		return false
	}
	e.st.setVar(name, e.a.newVar(e.st, name, Word{Value: strconv.FormatInt(v, 10)}))
	return true
}

func (e *expander) unary(x *syntax.UnaryArithm) (int64, bool) {
	v, ok := e.arith(x.X)
	if !ok {
		return 0, false
	}
	switch x.Op {
	case syntax.Not:
		if v == 0 {
			return 1, true
		}
		return 0, true
	case syntax.BitNegation:
		return ^v, true
	case syntax.Plus:
		return v, true
	case syntax.Minus:
		return -v, true
	case syntax.Inc, syntax.Dec:
		n := v + 1
		if x.Op == syntax.Dec {
			n = v - 1
		}
		if !e.setArith(x.X, n) {
			return 0, false
		}
		if x.Post {
			return v, true
		}
		return n, true
	}
	return 0, false
}

func (e *expander) binary(x *syntax.BinaryArithm) (int64, bool) {
	switch x.Op {
	case syntax.AndArit, syntax.OrArit:
		l, ok := e.arith(x.X)
		if !ok {
			return 0, false
		}
		if (x.Op == syntax.AndArit) == (l == 0) {
			return b2i(l != 0), true
		}
		r, ok := e.arith(x.Y)
		return b2i(r != 0), ok
	case syntax.TernQuest:
		c, ok := e.arith(x.X)
		y, isColon := x.Y.(*syntax.BinaryArithm)
		if !ok || !isColon || y.Op != syntax.TernColon {
			return 0, false
		}
		if c != 0 {
			return e.arith(y.X)
		}
		return e.arith(y.Y)
	case syntax.Assgn:
		r, ok := e.arith(x.Y)
		if !ok || !e.setArith(x.X, r) {
			return 0, false
		}
		return r, true
	case syntax.Comma:
		if _, ok := e.arith(x.X); !ok {
			return 0, false
		}
		return e.arith(x.Y)
	}
	l, ok := e.arith(x.X)
	if !ok {
		return 0, false
	}
	r, ok := e.arith(x.Y)
	if !ok {
		return 0, false
	}
	op := x.Op
	assign := true
	switch op {
	case syntax.AddAssgn:
		op = syntax.Add
	case syntax.SubAssgn:
		op = syntax.Sub
	case syntax.MulAssgn:
		op = syntax.Mul
	case syntax.QuoAssgn:
		op = syntax.Quo
	case syntax.RemAssgn:
		op = syntax.Rem
	case syntax.AndAssgn:
		op = syntax.And
	case syntax.OrAssgn:
		op = syntax.Or
	case syntax.XorAssgn:
		op = syntax.Xor
	case syntax.ShlAssgn:
		op = syntax.Shl
	case syntax.ShrAssgn:
		op = syntax.Shr
	case syntax.PowAssgn:
		op = syntax.Pow
	default:
		assign = false
	}
	v, ok := binop(op, l, r)
	if !ok {
		return 0, false
	}
	if assign && !e.setArith(x.X, v) {
		return 0, false
	}
	return v, true
}

func binop(op syntax.BinAritOperator, l, r int64) (int64, bool) {
	switch op {
	case syntax.Add:
		return l + r, true
	case syntax.Sub:
		return l - r, true
	case syntax.Mul:
		return l * r, true
	case syntax.Quo, syntax.Rem:
		if r == 0 || (l == -1<<63 && r == -1) {
			return 0, false
		}
		if op == syntax.Quo {
			return l / r, true
		}
		return l % r, true
	case syntax.Pow:
		if r < 0 {
			return 0, false
		}
		v := int64(1)
		for i := int64(0); i < r && i < 64; i++ {
			v *= l
		}
		return v, true
	case syntax.Eql:
		return b2i(l == r), true
	case syntax.Neq:
		return b2i(l != r), true
	case syntax.Lss:
		return b2i(l < r), true
	case syntax.Gtr:
		return b2i(l > r), true
	case syntax.Leq:
		return b2i(l <= r), true
	case syntax.Geq:
		return b2i(l >= r), true
	case syntax.And:
		return l & r, true
	case syntax.Or:
		return l | r, true
	case syntax.Xor:
		return l ^ r, true
	case syntax.Shl:
		return l << (uint64(r) & 63), true
	case syntax.Shr:
		return l >> (uint64(r) & 63), true
	case syntax.XorBool:
		return b2i((l != 0) != (r != 0)), true
	}
	return 0, false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
