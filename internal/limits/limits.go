package limits

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Name names a limit as --limit takes it.
type Name string

// The raisable limits: real repositories, inventories and logs can pass
// them, and a user who trusts the input may raise them.
const (
	AuthLogBytes      Name = "auth-log-bytes"
	AuthLogRows       Name = "auth-log-rows"
	ChildPipelines    Name = "child-pipelines"
	ConfigBytes       Name = "config-bytes"
	FileSize          Name = "file-size"
	Includes          Name = "includes"
	InterpolatedBytes Name = "interpolated-bytes"
	InventorySize     Name = "inventory-size"
	LogFailures       Name = "log-failures"
	LogLine           Name = "log-line"
	MatrixVariants    Name = "matrix-variants"
	ScriptSize        Name = "script-size"
	ShellCommands     Name = "shell-commands"
	ShellSteps        Name = "shell-steps"
	YAMLNodes         Name = "yaml-nodes"
)

// The fixed limits: guards against input that would crash the process,
// or GitLab's own rules that no instance setting changes.
const (
	ParseNesting   Name = "parse-nesting"
	YAMLDepth      Name = "yaml-depth"
	IncludeDepth   Name = "include-depth"
	ExtendsDepth   Name = "extends-depth"
	ReferenceDepth Name = "reference-depth"
	ChildDepth     Name = "child-depth"
)

// Unit is what a limit counts.
type Unit string

const (
	Bytes Unit = "bytes"
	Count Unit = "count"
)

// Limit is one named bound.
type Limit struct {
	Name    Name
	Default int64
	Unit    Unit
	// Bounds says what is bounded and where tokenscope checks it.
	Bounds string
	// Fixed, when not empty, says why --limit cannot change it.
	Fixed string
}

// list is the one list; docs/design.md ("Limits") shows it as
// 'tokenscope help limits' prints it.
var list = []Limit{
	{Name: AuthLogBytes, Default: 32 << 20, Unit: Bytes, Bounds: "size of one --auth-log-csv export"},
	{Name: AuthLogRows, Default: 200_000, Unit: Count, Bounds: "rows of one --auth-log-csv export"},
	{Name: ChildPipelines, Default: 100, Unit: Count, Bounds: "child pipelines (trigger:include) analysed per project pipeline"},
	// GitLab: 150 includes × 2 MB (https://docs.gitlab.com/ci/yaml/includes/).
	{Name: ConfigBytes, Default: 150 * 2 << 20, Unit: Bytes, Bounds: "CI configuration of one pipeline, all included files together"},
	{Name: FileSize, Default: 8 << 20, Unit: Bytes, Bounds: "one repository file read from a snapshot (CI configuration, scripts, manifests)"},
	// GitLab's ci_max_includes instance setting, 150 by default
	// (https://docs.gitlab.com/administration/settings/continuous_integration/#maximum-includes).
	{Name: Includes, Default: 150, Unit: Count, Bounds: "includes per pipeline, nested and duplicates counted (GitLab's default; an instance may allow more)"},
	{Name: InterpolatedBytes, Default: 8 << 20, Unit: Bytes, Bounds: "one included file after spec:inputs interpolation"},
	{Name: InventorySize, Default: 256 << 20, Unit: Bytes, Bounds: "inventory.yaml of a snapshot (read by every command, written by snapshot)"},
	{Name: LogFailures, Default: 1000, Unit: Count, Bounds: "distinct failures reported from one job log (diagnose)"},
	{Name: LogLine, Default: 64 << 10, Unit: Bytes, Bounds: "bytes of a job log line matched at its start and at its end (diagnose)"},
	{Name: MatrixVariants, Default: 64, Unit: Count, Bounds: "parallel:matrix variants analysed per job"},
	{Name: ScriptSize, Default: 1 << 20, Unit: Bytes, Bounds: "one shell script analysed: a script file a job runs, or an inline script"},
	{Name: ShellCommands, Default: 100_000, Unit: Count, Bounds: "commands the shell analysis returns for one job's scripts"},
	{Name: ShellSteps, Default: 100_000, Unit: Count, Bounds: "statements and loop iterations the shell analysis runs for one job's scripts"},
	{Name: YAMLNodes, Default: 1_000_000, Unit: Count, Bounds: "YAML nodes of one CI file after aliases, and script lines and variables of one pipeline"},

	{Name: ChildDepth, Default: 2, Unit: Count, Bounds: "nesting of child pipelines", Fixed: "GitLab's own rule (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/#nested-child-pipelines)"},
	{Name: ExtendsDepth, Default: 10, Unit: Count, Bounds: "ancestors in extends", Fixed: "GitLab's own rule (https://docs.gitlab.com/ci/yaml/#extends)"},
	{Name: IncludeDepth, Default: 100, Unit: Count, Bounds: "nesting of includes", Fixed: "GitLab's own rule (https://docs.gitlab.com/ci/yaml/includes/); deeper is a cycle"},
	{Name: ParseNesting, Default: 1000, Unit: Count, Bounds: "nesting of one shell script's parentheses, braces and compound commands", Fixed: "deeper input overflows the shell parser's stack and aborts the process"},
	{Name: ReferenceDepth, Default: 10, Unit: Count, Bounds: "nested !reference tags", Fixed: "GitLab's own rule (https://docs.gitlab.com/ci/yaml/yaml_optimization/#reference-tags)"},
	{Name: YAMLDepth, Default: 100, Unit: Count, Bounds: "nesting of one CI file's YAML", Fixed: "deeper input costs the YAML decoder's recursion; GitLab refuses it too (https://docs.gitlab.com/administration/instance_limits/#maximum-size-and-depth-of-cicd-configuration-yaml-files)"},
}

// All returns the limits sorted by name, the raisable ones first.
func All() []Limit {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b Limit) int {
		if (a.Fixed == "") != (b.Fixed == "") {
			if a.Fixed == "" {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Name), string(b.Name))
	})
	return out
}

// Names returns the names --limit accepts, sorted.
func Names() []string {
	var out []string
	for _, l := range list {
		if l.Fixed == "" {
			out = append(out, string(l.Name))
		}
	}
	slices.Sort(out)
	return out
}

// byName indexes list; built once, never changed. Default runs where an
// option is left zero, which can be per call of a hot function.
var byName = func() map[Name]Limit {
	m := make(map[Name]Limit, len(list))
	for _, l := range list {
		m[l.Name] = l
	}
	return m
}()

// Lookup returns the limit named n.
func Lookup(n Name) (Limit, bool) {
	l, ok := byName[n]
	return l, ok
}

// Default is the default of the limit named n. An unknown name is a
// mistake in the code, not in the input.
func Default(n Name) int64 {
	l, ok := Lookup(n)
	if !ok {
		panic("limits: unknown limit " + string(n))
	}
	return l.Default
}

// Or is v when it is set (positive), else the default of n: option
// structs leave a limit zero to mean the default.
func Or[T ~int | ~int64](v T, n Name) T {
	if v > 0 {
		return v
	}
	return T(Default(n))
}

// Values are the limits given with --limit; the others take their
// defaults. The zero value holds only defaults.
type Values map[Name]int64

// Get is the value of n: the one given, or the default.
func (v Values) Get(n Name) int64 {
	if x, ok := v[n]; ok {
		return x
	}
	return Default(n)
}

// Int is Get as an int.
func (v Values) Int(n Name) int { return int(v.Get(n)) }

// UnknownError is a --limit whose name is not a limit.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string { return fmt.Sprintf("unknown limit %q", e.Name) }

// Set parses one NAME=VALUE and records it. The value takes the limit's
// unit: bytes as 16MiB, 512KiB, 2GiB, 16MB or a plain number, counts as a
// plain number (underscores allowed: 200_000).
func (v Values) Set(arg string) error {
	name, val, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("%q: give NAME=VALUE, e.g. %s=16MiB", arg, FileSize)
	}
	l, found := Lookup(Name(name))
	if !found {
		return &UnknownError{Name: name}
	}
	if l.Fixed != "" {
		return fmt.Errorf("%s is a fixed limit (%d): %s", name, l.Default, l.Fixed)
	}
	n, err := ParseValue(l.Unit, strings.TrimSpace(val))
	if err != nil {
		return fmt.Errorf("%s=%s: %w", name, val, err)
	}
	v[l.Name] = n
	return nil
}

// maxValue keeps a raised limit a bound: past it int arithmetic at the
// sites (doubling, sums) could overflow.
const maxValue = 1 << 40

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseValue reads a value of unit u: a positive integer, with a size
// suffix for bytes (KiB, MiB, GiB; KB, MB, GB; K, M, G as binary).
func ParseValue(u Unit, s string) (int64, error) {
	num, mult := strings.ReplaceAll(s, "_", ""), int64(1)
	if u == Bytes {
		low := strings.ToLower(num)
		for _, bu := range byteUnits {
			if strings.HasSuffix(low, bu.suffix) {
				num, mult = strings.TrimSpace(num[:len(num)-len(bu.suffix)]), bu.mult
				break
			}
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		if u == Bytes {
			return 0, fmt.Errorf("want a positive size such as 16MiB, 512KiB or 1048576")
		}
		return 0, fmt.Errorf("want a positive whole number such as 200000")
	}
	if n > maxValue/mult {
		return 0, fmt.Errorf("more than %s", Format(u, maxValue))
	}
	return n * mult, nil
}

// Format writes v in unit u the way ParseValue reads it: bytes in the
// largest binary unit that divides them (16MiB), counts as numbers.
func Format(u Unit, v int64) string {
	if u == Bytes {
		for _, s := range []struct {
			suffix string
			mult   int64
		}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if v >= s.mult && v%s.mult == 0 {
				return strconv.FormatInt(v/s.mult, 10) + s.suffix
			}
		}
	}
	return strconv.FormatInt(v, 10)
}

// Raise is how a message ends when the limit n, now at cur, was hit:
// "raise with --limit NAME=2×cur". Only internal/cli knows flags; the
// words are here so that every site says them alike.
func Raise(n Name, cur int64) string {
	l, ok := Lookup(n)
	if !ok || l.Fixed != "" {
		panic("limits: Raise of a fixed or unknown limit " + string(n))
	}
	v := min(2*max(cur, 1), maxValue)
	if l.Unit == Bytes {
		// A round figure is easier to type than twice an odd size.
		for _, m := range []int64{1 << 20, 1 << 10} {
			if v >= m {
				v = min((v+m-1)/m*m, maxValue)
				break
			}
		}
	}
	return fmt.Sprintf("raise with --limit %s=%s", n, Format(l.Unit, v))
}

// FixedNote is how a message about the fixed limit n ends: that it is
// fixed, and why.
func FixedNote(n Name) string {
	l, ok := Lookup(n)
	if !ok || l.Fixed == "" {
		panic("limits: FixedNote of a raisable or unknown limit " + string(n))
	}
	return fmt.Sprintf("a fixed limit (%s): %s", n, l.Fixed)
}
