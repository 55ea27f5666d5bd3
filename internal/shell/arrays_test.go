package shell

import (
	"testing"
)

// TestArrayIdioms: the array forms real jobs build curl options with
// (set -u safe ${ARR[@]+"${ARR[@]}"}, quoted "${ARR[@]}", += appends) keep
// each element one argument, so the header an element carries is seen.
func TestArrayIdioms(t *testing.T) {
	env := MapEnv{"CI_JOB_TOKEN": "[MASKED]"}
	tests := []struct {
		name, src string
		want      string // rendered last command
	}{
		{"set -u safe, quoted", `HDR=(-H "JOB-TOKEN: $CI_JOB_TOKEN"); curl "${HDR[@]+"${HDR[@]}"}" https://h/api/v4/projects/1`,
			`10: curl -H "JOB-TOKEN: [MASKED]" https://h/api/v4/projects/1`},
		{"set -u safe, unquoted", `set -u; HDR=(-H "JOB-TOKEN: $CI_JOB_TOKEN"); curl ${HDR[@]+"${HDR[@]}"} https://h/api/v4/projects/1`,
			`10: curl -H "JOB-TOKEN: [MASKED]" https://h/api/v4/projects/1`},
		{"set -u safe, empty array gives nothing", `HDR=(); curl ${HDR[@]+"${HDR[@]}"} https://h`,
			`10: curl https://h`},
		{"set -u safe, unknown array gives nothing", `curl ${NOPE[@]+"${NOPE[@]}"} https://h`,
			`10: curl https://h`},
		{"+= append", `HDR=(); HDR+=(-H "JOB-TOKEN: $CI_JOB_TOKEN"); curl "${HDR[@]}" https://h`,
			`10: curl -H "JOB-TOKEN: [MASKED]" https://h`},
		{"local -a then +=", `f() { local -a opts; opts+=(--header "JOB-TOKEN: $CI_JOB_TOKEN"); curl "${opts[@]}" https://h; }; f`,
			`10: curl --header "JOB-TOKEN: [MASKED]" https://h`},
		{"prefix each element", `H=("JOB-TOKEN: $CI_JOB_TOKEN"); curl ${H[@]+"${H[@]/#/-H}"} https://h`,
			`10: curl "-HJOB-TOKEN: [MASKED]" https://h`},
		{":+ with scalar", `T=$CI_JOB_TOKEN; curl ${T:+-H "JOB-TOKEN: $T"} https://h`,
			`10: curl -H "JOB-TOKEN: [MASKED]" https://h`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(script(tt.src), env, Options{})
			got := renderAll(r.Commands)
			if len(got) == 0 || got[len(got)-1] != tt.want || len(r.Diags) > 0 {
				t.Errorf("got %q, want last %q (diags %v)", got, tt.want, r.Diags)
			}
		})
	}
}
