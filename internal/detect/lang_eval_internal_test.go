package detect

import "testing"

// The evaluator's value rules, one expression each: the last statement
// "u = EXPR" of src is evaluated with CI_API_V4_URL and P set.
func TestScriptValues(t *testing.T) {
	env := map[string]string{"CI_API_V4_URL": "https://git.example.org/api/v4", "P": "55"}
	get := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	for _, tc := range []struct {
		d    dialect
		src  string
		want string
	}{
		{langPython, `u = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ.get('P')!s:>3}/x{{y}}"`, "https://git.example.org/api/v4/projects/55/x{y}"},
		{langPython, `u = "%s/projects/%s" % (os.environ["CI_API_V4_URL"], os.getenv("Q", "9"))`, "https://git.example.org/api/v4/projects/9"},
		{langPython, `u = "{}/projects/{pid}".format(os.environ["CI_API_V4_URL"], pid=quote("a/b", safe=""))`, "https://git.example.org/api/v4/projects/a%2Fb"},
		{langPython, "base = os.environ['CI_API_V4_URL'].rstrip('/') + '/'\nu = urljoin(base, 'projects/1')", "https://git.example.org/api/v4/projects/1"},
		{langPython, "u = '''a\n# not a comment\nb'''", "a\n# not a comment\nb"},
		{langPython, "u = r'\\d' 'x'  # comment", `\dx`},
		{langPython, "u = os.environ.get('UNSET') or 'dflt'", "dflt"},
		{langPython, "u = os.environ['UNSET']", "${UNSET}"},
		{langPython, "u = args.project + '/x'", "${args_project}/x"},
		{langRuby, `u = "#{ENV['CI_API_V4_URL']}/projects/#{ENV.fetch('P')}"`, "https://git.example.org/api/v4/projects/55"},
		{langRuby, `u = '#{not}' # "x"`, "#{not}"},
		{langRuby, "=begin\nu = 'no'\n=end\nu = CGI.escape('g/p')", "g%2Fp"},
		{langNode, "const u = `${process.env.CI_API_V4_URL}/projects/${encodeURIComponent(`g/${'p'}`)}`", "https://git.example.org/api/v4/projects/g%2Fp"},
		{langNode, "let u = process.env.UNSET ?? 'd' // u = 'no'", "d"},
		{langNode, "/* u = 'no' */ var u = process.env['P'] + \"\"", "55"},
	} {
		e := newEvaluator(tc.d, tc.src, get)
		e.run()
		got := e.vars["u"]
		if got.s != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.d, tc.src, got.s, tc.want)
		}
	}
}
