package report

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
)

// scriptPrelude is the fixed part of the script: argument parsing, the
// token check and the call helper. The token is read from GITLAB_TOKEN and
// handed to curl on standard input (printf is a shell builtin), so it never
// appears in a process list or in the script's output.
const scriptPrelude = `set -euo pipefail

execute=0
unreviewed=0
wave=""
while [ $# -gt 0 ]; do
  case "$1" in
    --execute) execute=1 ;;
    --unreviewed) unreviewed=1 ;;
    --wave) wave="${2:?--wave needs a wave name}"; shift ;;
    --wave=*) wave="${1#--wave=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
`

// scriptCall is the rest of the fixed part; {{trust}} stands for the
// command line's trust flag (PlanHints.Trust).
const scriptCall = `
# A loop, not printf | grep -q: under pipefail grep -q's early exit can
# SIGPIPE printf and fail the check for a wave that exists.
if [ -n "$wave" ]; then
  known=0
  for w in "${waves[@]}"; do
    if [ "$w" = "$wave" ]; then known=1; fi
  done
  if [ "$known" != 1 ]; then
    echo "unknown wave: $wave (waves: ${waves[*]})" >&2
    exit 2
  fi
fi
if [ "$execute" = 1 ]; then
  if [ "$reviewed" != 1 ] && [ "$unreviewed" != 1 ]; then
    echo "this plan was computed WITHOUT a trust file: nothing in it was reviewed." >&2
    echo "plan with {{trust}}, or run with --execute --unreviewed if you really mean it." >&2
    exit 2
  fi
  if [ "$drafted" != 0 ] && [ "$unreviewed" != 1 ]; then
    echo "$drafted trust file entries are still marked unreviewed: a draft is not a review." >&2
    echo "review them (delete unreviewed: true) and plan again, or run with --execute --unreviewed if you really mean it." >&2
    exit 2
  fi
  if [ -n "$upgrade" ]; then
    printf '%s\n' "$upgrade" >&2
    exit 2
  fi
  if [ -z "${GITLAB_TOKEN:-}" ]; then
    echo "GITLAB_TOKEN is not set (a token with the Maintainer role on every project below)" >&2
    exit 2
  fi
  command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }
else
  echo "dry run: nothing is changed; run with --execute to make these calls" >&2
fi

failures=0
block_failures=0

in_wave() { [ -z "$wave" ] || [ "$wave" = "$1" ]; }

begin() { block_failures=0; printf '== %s\n' "$1"; }

# call WHAT METHOD PATH DONE [curl arguments...]
#   PATH is below $GITLAB_URL; DONE is an extended regular expression of
#   responses that mean the change is already made (empty: none), so that
#   running the script twice is harmless.
call() {
  local what=$1 method=$2 path=$3 done=$4
  shift 4
  if [ "$execute" != 1 ]; then
    printf 'would %s: %s %s %s\n' "$what" "$method" "$path" "$*"
    return 0
  fi
  local out code body
  if ! out=$(printf 'PRIVATE-TOKEN: %s\n' "$GITLAB_TOKEN" |
    curl --silent --show-error --header @- --request "$method" --write-out '\n%{http_code}' "$@" "$GITLAB_URL/$path"); then
    printf 'FAILED %s: curl could not reach %s\n' "$what" "$GITLAB_URL" >&2
    failures=$((failures + 1)); block_failures=$((block_failures + 1))
    return 0
  fi
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  if [[ $code == 2* ]] && ! grep -Eq '"errors":\[[{"]' <<<"$body"; then
    printf 'done %s\n' "$what"
  elif [ -n "$done" ] && grep -Eq "$done" <<<"$body"; then
    printf 'already done %s\n' "$what"
  else
    printf 'FAILED %s: HTTP %s %s\n' "$what" "$code" "$body" >&2
    failures=$((failures + 1)); block_failures=$((block_failures + 1))
  fi
}

# unsupported WHAT REASON: a call this GitLab version cannot make. With
# --execute it counts as failed, so the project's enforcement is skipped:
# enforcing without the entry would break its callers.
unsupported() {
  if [ "$execute" != 1 ]; then
    printf 'would NOT %s: %s\n' "$1" "$2"
    return 0
  fi
  printf 'SKIPPED %s: %s\n' "$1" "$2" >&2
  failures=$((failures + 1)); block_failures=$((block_failures + 1))
}

# get PATH: the body of a GET below $GITLAB_URL; fails unless HTTP 2xx.
get() {
  local out code
  out=$(printf 'PRIVATE-TOKEN: %s\n' "$GITLAB_TOKEN" |
    curl --silent --show-error --header @- --write-out '\n%{http_code}' "$GITLAB_URL/$1") || return 1
  code=${out##*$'\n'}
  [[ $code == 2* ]] || return 1
  printf '%s\n' "${out%$'\n'*}"
}

# live_state REF: the live allowlist of project REF, one line per fact,
# lower case: "enforced:true|false", "project:PATH", "group:PATH". REST
# answers with compact JSON (https://docs.gitlab.com/api/project_job_token_scopes/);
# group entries carry only web_url, whose path follows "/groups/". Paging
# is bounded: GitLab holds at most 200 entries per list.
live_state() {
  local ref=$1 body kind page entries
  body=$(get "api/v4/projects/$ref/job_token_scope") || return 1
  { grep -o '"inbound_enabled":[a-z]*' <<<"$body" || true; } | sed 's/^.*:/enforced:/'
  for kind in allowlist groups_allowlist; do
    for page in 1 2 3; do
      body=$(get "api/v4/projects/$ref/job_token_scope/$kind?per_page=100&page=$page") || return 1
      if [ "$kind" = allowlist ]; then
        entries=$({ grep -o '"path_with_namespace":"[^"]*"' <<<"$body" || true; } | sed 's/^[^:]*:"//; s/"$//; s/^/project:/')
      else
        entries=$({ grep -o '"web_url":"[^"]*"' <<<"$body" || true; } | sed 's/^[^:]*:"//; s/"$//; s#^[^/]*//[^/]*/groups/##; s/^/group:/')
      fi
      [ -n "$entries" ] && printf '%s\n' "$entries"
      # A short page is the last one.
      [ "$(grep -c . <<<"$entries")" -lt 100 ] && break
    done
  done | tr '[:upper:]' '[:lower:]'
}

# check_state PROJECT REF ENFORCED MUST MAY: compares PROJECT's live
# allowlist with the state the plan was computed from, or one its calls
# lead to (a partly applied plan): ENFORCED lists the acceptable settings,
# MUST the entries that must be there, MAY those that may be (adds,
# removals, the project itself); anything else was changed by someone
# since, and the saved plan is stale. Policies are not compared: REST does
# not show them (tokenscope apply compares them over GraphQL).
stale=()
stale_detail=()
unread=()
check_state() {
  local project=$1 ref=$2 enforced_ok=$3 must=$4 may=$5 live enforced k diffs=()
  if ! live=$(live_state "$ref"); then
    unread+=("$project")
    return 0
  fi
  enforced=$(sed -n 's/^enforced://p' <<<"$live")
  case " $enforced_ok " in *" $enforced "*) ;; *) diffs+=("enforcement is ${enforced:-unknown}") ;; esac
  for k in $must; do
    grep -qxF "$k" <<<"$live" || diffs+=("${k%%:*} ${k#*:} was removed")
  done
  while read -r k; do
    case $k in enforced:* | '') continue ;; esac
    case " $must $may " in *" $k "*) ;; *) diffs+=("${k%%:*} ${k#*:} was added") ;; esac
  done <<<"$live"
  if [ ${#diffs[@]} -gt 0 ]; then
    local IFS=,
    stale+=("$project"); stale_detail+=("$project: $(sed 's/,/, /g' <<<"${diffs[*]}")")
  fi
}

# enforce WHAT PATH: turns the allowlist on, unless a call for the same
# project failed (enforcing without the entries would break its callers).
enforce() {
  if [ "$block_failures" -gt 0 ]; then
    printf 'SKIPPED %s: %d earlier call(s) for this project failed\n' "$1" "$block_failures" >&2
    failures=$((failures + 1))
    return 0
  fi
  call "$1" PATCH "$2" "" --data enabled=true
}
`

// planScript renders the plan's API calls as a bash script: a dry run
// unless run with --execute, one wave with --wave, idempotent.
func planScript(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "#!/usr/bin/env bash\n")
	fmt.Fprintf(ew, "# The API calls of a tokenscope plan, callee by callee, wave by wave.\n")
	if !p.Trusted {
		fmt.Fprintf(ew, "#\n# %s\n# --execute refuses to run it without --unreviewed.\n", wrapComment(untrustedBanner(h)))
	}
	if p.Unreviewed > 0 {
		fmt.Fprintf(ew, "#\n# %s\n# --execute refuses to run it without --unreviewed.\n", wrapComment(unreviewedLine(p)))
	}
	if up := p.Capabilities.Upgrade(); up != "" {
		fmt.Fprintf(ew, "#\n# %s.\n# --execute refuses to run it.\n", wrapComment(up))
	}
	fmt.Fprintf(ew, "#\n# %s\n# %s\n#\n", wrapComment(upperFirst(summary(p))+"."), wrapComment("Computed from: "+computedFrom(p, h)+"."))
	fmt.Fprintf(ew, `# Usage: GITLAB_TOKEN=... ./plan.sh [--execute] [--wave NAME]
#   without --execute it only prints the calls (dry run)
#   --wave NAME  makes the calls of one wave (%s)
#   GITLAB_TOKEN a token with the Maintainer role on every callee, read
#                from the environment only (never an argument)
#   GITLAB_URL   defaults to %s
# Order per project: entries, then policies (GraphQL), then removals, then
# enforcement, which is skipped when an earlier call for the project failed.
# A change that is already made is reported and skipped.
`, quote.OneLine(strings.Join(waveNames(p), ", ")), quote.OneLine(cmpOr(p.ServerURL, "https://gitlab.example.com")))
	io.WriteString(ew, scriptPrelude)
	io.WriteString(ew, scriptServerURL(cmpOr(p.ServerURL, "https://gitlab.example.com")))
	reviewed := 0
	if p.Trusted {
		reviewed = 1
	}
	// drafted is the count of entries trust init drafted that nobody has
	// reviewed yet; --execute refuses while it is not zero, as for an
	// untrusted plan.
	upgrade := ""
	if up := p.Capabilities.Upgrade(); up != "" {
		upgrade = up + "."
	}
	fmt.Fprintf(ew, "reviewed=%d\ndrafted=%d\nupgrade=%s\nwaves=(", reviewed, p.Unreviewed, shellQuote(upgrade))
	for i, n := range waveNames(p) {
		if i > 0 {
			fmt.Fprint(ew, " ")
		}
		fmt.Fprint(ew, shellQuote(n))
	}
	fmt.Fprint(ew, ")\n")
	io.WriteString(ew, strings.ReplaceAll(scriptCall, "{{trust}}", h.Trust))
	writeStateCheck(ew, p)
	for _, pr := range p.Projects {
		calls := pr.Calls(p.Capabilities)
		if len(calls) == 0 {
			if pr.Unknown() {
				fmt.Fprintf(ew, "\n# %s: %s; no calls planned\n", quote.OneLine(pr.Path), unknownState)
			}
			continue
		}
		fmt.Fprintf(ew, "\n# %s: %s\n", quote.OneLine(pr.Path), quote.OneLine(pr.EnforceNote))
		if pr.Unknown() {
			fmt.Fprintf(ew, "# %s: --execute refuses this project\n", unknownState)
		}
		indent := ""
		if pr.Wave != "" {
			fmt.Fprintf(ew, "if in_wave %s; then\n", shellQuote(pr.Wave))
			indent = "  "
		} else {
			fmt.Fprintf(ew, "if [ -z \"$wave\" ]; then # in no wave: runs only without --wave\n")
			indent = "  "
		}
		fmt.Fprintf(ew, "%sbegin %s\n", indent, shellQuote(pr.Path))
		if pr.Unknown() {
			// The calls were computed without the current allowlist: run
			// they could duplicate what is there and enforce an allowlist
			// nobody has seen. Dry runs still show them.
			fmt.Fprintf(ew, "%sif [ \"$execute\" = 1 ]; then\n", indent)
			fmt.Fprintf(ew, "%s  printf 'REFUSED %%s: %%s\\n' %s %s >&2\n", indent, shellQuote(pr.Path),
				shellQuote(unknownState+"; plan again with a Maintainer token"))
			fmt.Fprintf(ew, "%s  failures=$((failures + 1))\n", indent)
			fmt.Fprintf(ew, "%selse\n", indent)
			for _, c := range calls {
				fmt.Fprintf(ew, "%s  %s\n", indent, scriptLine(c, callComment(c, p.Capabilities)))
			}
			fmt.Fprintf(ew, "%sfi\n", indent)
		} else {
			for _, c := range calls {
				fmt.Fprintf(ew, "%s%s\n", indent, scriptLine(c, callComment(c, p.Capabilities)))
			}
		}
		fmt.Fprintf(ew, "fi\n")
	}
	fmt.Fprint(ew, `
if [ "$failures" -gt 0 ]; then
  echo "$failures call(s) failed or were skipped; fix them and run the script again (it is idempotent)" >&2
  exit 1
fi
`)
	return ew.err
}

// writeStateCheck writes the check that runs before the first call of
// --execute: every project of the selected wave whose allowlist the plan
// read must still be in a state the plan allows, or the script stops,
// naming them, as tokenscope apply refuses a stale plan. The plan's
// state_digest covers the whole inventory, which the script cannot read
// back; so, as apply does (internal/apply/state.go), it compares project
// by project with what the plan says was there.
func writeStateCheck(w io.Writer, p *plan.Plan) {
	if !p.Capabilities.RESTAllowlist {
		// Nothing to read it with; and every call is unsupported anyway.
		return
	}
	fmt.Fprint(w, "\nif [ \"$execute\" = 1 ]; then\n")
	for _, pr := range p.Projects {
		if pr.Unknown() || len(pr.Calls(p.Capabilities)) == 0 {
			continue
		}
		enforced := fmt.Sprint(pr.Enforced)
		if pr.Enforce && !pr.Enforced {
			enforced += " true"
		}
		var must, may []string
		for _, e := range pr.Keep {
			if e.OnAllowlist {
				must = append(must, stateKey(e))
			}
		}
		for _, es := range [][]plan.Entry{pr.Update, pr.Unapproved} {
			for _, e := range es {
				must = append(must, stateKey(e))
			}
		}
		for _, es := range [][]plan.Entry{pr.Add, pr.Remove} {
			for _, e := range es {
				may = append(may, stateKey(e))
			}
		}
		may = append(may, "project:"+strings.ToLower(pr.Path))
		cond := "[ -z \"$wave\" ]"
		if pr.Wave != "" {
			cond = "in_wave " + shellQuote(pr.Wave)
		}
		fmt.Fprintf(w, "  if %s; then check_state %s %s %s %s %s; fi\n", cond, shellQuote(pr.Path), shellQuote(scriptRef(pr)),
			shellQuote(enforced), shellQuote(strings.Join(must, " ")), shellQuote(strings.Join(may, " ")))
	}
	io.WriteString(w, `  if [ ${#unread[@]} -gt 0 ]; then
    (IFS=,; printf 'cannot check the saved plan against GitLab: the allowlists of %s could not be read (a token with the Maintainer role reads them); nothing was changed\n' "$(sed 's/,/, /g' <<<"${unread[*]}")" >&2)
    exit 1
  fi
  if [ ${#stale[@]} -gt 0 ]; then
    (IFS=,; printf 'Saved plan is stale: the allowlists of %s changed since the plan was computed; plan again\n' "$(sed 's/,/, /g' <<<"${stale[*]}")" >&2)
    printf '  %s\n' "${stale_detail[@]}" >&2
    exit 1
  fi
fi
`)
}

// stateKey is an entry as live_state prints it.
func stateKey(e plan.Entry) string { return string(e.Type) + ":" + strings.ToLower(e.Path) }

// scriptRef is the :id of a project in a REST path: numeric, or the
// URL-encoded path (the GET routes accept both).
func scriptRef(pr plan.Project) string {
	if pr.ID != 0 {
		return fmt.Sprint(pr.ID)
	}
	return url.PathEscape(pr.Path)
}

// scriptLine renders one call for the script, what it does in comment.
func scriptLine(c plan.Call, comment string) string {
	if c.Unsupported != "" {
		return fmt.Sprintf("unsupported %s %s", shellQuote(comment), shellQuote(c.Unsupported))
	}
	done := strings.Join(c.Done, "|")
	if c.Kind == plan.CallEnforce {
		return fmt.Sprintf("enforce %s %s", shellQuote(comment), shellQuote(c.Path))
	}
	if c.GraphQL() {
		return fmt.Sprintf("call %s %s %s %s --header 'Content-Type: application/json' --data %s",
			shellQuote(comment), shellWord(c.Method), shellWord(c.Path), shellQuote(done), shellQuote(graphqlBody(graphqlQuery(c))))
	}
	var args []string
	for _, f := range formFields(c) {
		args = append(args, "--data "+shellQuote(f))
	}
	line := fmt.Sprintf("call %s %s %s %s", shellQuote(comment), shellWord(c.Method), shellQuote(c.Path), shellQuote(done))
	if len(args) > 0 {
		line += " " + strings.Join(args, " ")
	}
	return line
}

func waveNames(p *plan.Plan) []string {
	var out []string
	for _, w := range p.Waves {
		out = append(out, w.Name)
	}
	return out
}

// wrapComment folds text into "# " comment lines of about 76 columns.
func wrapComment(s string) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		word = quote.OneLine(word)
		if line != "" && len(line)+1+len(word) > 76 {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n# ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
