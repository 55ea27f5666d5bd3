package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Version is the plan format version this tokenscope writes and reads.
// Bump it only when a consumer (apply, people's scripts) must change;
// adding fields does not.
const Version = 1

// Wire types of the plan JSON document (docs/design.md §6b), separate from the
// model so that the contract changes only on purpose. Fields beyond §6b
// are additive: consumers of §6b can ignore them.
//
// Allowed values: type is "project" or "group"; policies is a sorted list
// of lower-case fine-grained policy names, or null for default
// permissions (the reason then says why); access lists access kinds
// (docs/design.md §3). Lists are never null; projects are sorted by path and
// entries by type and path; calls are in the order they are made.
type (
	// Document is a whole plan.
	Document struct {
		Version  int       `json:"version"`
		Projects []Project `json:"projects"`
		Warnings []string  `json:"warnings"`
		// Additive: what the plan was computed from. apply refuses a plan
		// whose state_digest no longer matches the live allowlists.
		Trusted   bool   `json:"trusted"`
		TrustFile string `json:"trust_file,omitempty"`
		// Unreviewed counts the trust file's entries still marked
		// unreviewed (drafted, not reviewed); apply refuses the plan while
		// it is not zero unless told otherwise. Absent in older plans: 0.
		Unreviewed    int          `json:"unreviewed"`
		Pruned        bool         `json:"pruned"`
		GitLabVersion string       `json:"gitlab_version"` // "" when unknown
		StateDigest   string       `json:"state_digest"`
		Waves         []Wave       `json:"waves"`
		Unresolved    []Unresolved `json:"unresolved"`
	}
	// Project is the plan of one callee.
	Project struct {
		Project     string    `json:"project"`
		Enforce     bool      `json:"enforce"`
		Add         []Entry   `json:"add"`
		Update      []Entry   `json:"update"`
		Remove      []Removal `json:"remove"`
		Keep        []Entry   `json:"keep"`
		NeedsReview []Review  `json:"needs_review"`
		Stale       []Entry   `json:"stale"`
		ID          int       `json:"id,omitempty"`
		Wave        string    `json:"wave,omitempty"`
		Enforced    bool      `json:"enforced"` // enforced today (project or instance setting)
		// State is "known", or "unknown" when the project's job token
		// settings and allowlist could not be read (the token lacked
		// Maintainer): the plan then holds no removal or update for it, and
		// apply must not treat it as authoritative. Additive; a document
		// without it reads as "known".
		State plan.State `json:"state"`
		// Open is the trust.yaml exception that keeps the project's
		// allowlist off (absent: locked down, the default).
		Open       *Open    `json:"open,omitempty"`
		Denied     []Review `json:"denied"`
		Unapproved []Entry  `json:"unapproved"` // on the allowlist, not approved, kept without pruning
		// ViaGroup are approved callers admitted by a group entry the plan
		// adds (covered_by names it): no entry, no call of their own.
		// Additive, and absent when there are none (as in older plans).
		ViaGroup []Entry  `json:"via_group,omitempty"`
		Never    []Review `json:"never"` // a job token cannot do this; see advice
		Advice   []Advice `json:"advice"`
		// Calls are the GitLab calls that apply the project's plan, in
		// order: adds (each with its policies), policy updates, removals,
		// enforcement last.
		Calls []Call `json:"calls"`
	}
	// Entry is an allowlist entry the plan adds, updates, keeps or flags.
	Entry struct {
		Type     plan.EntryType `json:"type"`
		Path     string         `json:"path"`
		Access   []access.Kind  `json:"access"`
		Policies []string       `json:"policies"`
		Reason   string         `json:"reason"`
		ID       int            `json:"id,omitempty"`
		Role     access.Role    `json:"role,omitempty"` // minimum role of the triggering users on the callee
		// CurrentPolicies is set for entries on the allowlist: null is
		// default permissions.
		CurrentPolicies OptionalPolicies `json:"current_policies,omitzero"`
		CoveredBy       string           `json:"covered_by,omitempty"`
		Autopopulated   bool             `json:"autopopulated,omitempty"`
		Stale           bool             `json:"stale,omitempty"`
		Widening        *Widening        `json:"widening,omitempty"`
	}
	// Removal is an entry the plan removes.
	Removal struct {
		Type            plan.EntryType   `json:"type"`
		Path            string           `json:"path"`
		Reason          string           `json:"reason"`
		ID              int              `json:"id,omitempty"`
		CurrentPolicies OptionalPolicies `json:"current_policies,omitzero"`
		Autopopulated   bool             `json:"autopopulated,omitempty"`
	}
	// Widening is what a group entry admits beyond the approved callers.
	Widening struct {
		Members  int      `json:"members"`
		Extra    []string `json:"extra"`
		Replaces []string `json:"replaces,omitempty"`
		Proposed bool     `json:"proposed"`
	}
	// Review is a caller the plan does not add without a human.
	Review struct {
		Caller      string        `json:"caller"`
		Access      []access.Kind `json:"access"`
		Uses        []Use         `json:"uses"`
		Reason      string        `json:"reason"`
		OnAllowlist bool          `json:"on_allowlist"`
	}
	// Use is one piece of evidence, as in the scan JSON document.
	Use struct {
		Origin  use.Origin  `json:"origin"`
		Access  access.Kind `json:"access"`
		Project string      `json:"project"`
		File    string      `json:"file"`
		Line    int         `json:"line"`
		Job     string      `json:"job"`
		Detail  string      `json:"detail"`
		// Variants (additive): the job's variable sets the use is found
		// under, when it has several (docs/design.md §5).
		Variants []string `json:"variants,omitempty"`
	}
	// Advice says what to use where a job token is the wrong tool.
	Advice struct {
		Caller string        `json:"caller"`
		Access []access.Kind `json:"access"`
		Advice string        `json:"advice"`
	}
	// Open is a lock-down exception of trust.yaml: reason, owner, the
	// expiry date ("" when none) and the line.
	Open struct {
		Reason  string `json:"reason"`
		Owner   string `json:"owner"`
		Expires string `json:"expires,omitempty"`
		Line    int    `json:"line"`
	}
	// Wave is a rollout wave of trust.yaml.
	Wave struct {
		Name     string   `json:"name"`
		Projects []string `json:"projects,omitempty"`
		Groups   []string `json:"groups,omitempty"`
		All      bool     `json:"all,omitempty"`
	}
	// Unresolved is a reference discovery could not resolve, as in the
	// scan JSON document.
	Unresolved struct {
		Project string `json:"project"`
		// Caller is the project whose pipeline runs the job, when the
		// file is another project's (an included template).
		Caller    string `json:"caller,omitempty"`
		File      string `json:"file"`
		Line      int    `json:"line"`
		Job       string `json:"job"`
		Reference string `json:"reference"`
		Reason    string `json:"reason"`
		// Variants (additive), as in Use.
		Variants []string `json:"variants,omitempty"`
	}
	// Call is one GitLab request (additive). Path is below the server URL
	// ("api/v4/…" for REST, "api/graphql"); params are the REST form
	// fields, or the input object of the GraphQL mutation (enum values as
	// strings, as in GraphQL variables). done lists response texts that
	// mean the change is already made.
	Call struct {
		Kind        plan.CallKind    `json:"kind"`
		Method      string           `json:"method"`
		Path        string           `json:"path"`
		Mutation    string           `json:"mutation,omitempty"`
		Params      map[string]any   `json:"params"`
		Target      *Target          `json:"target,omitempty"`
		Policies    OptionalPolicies `json:"policies,omitzero"` // update-policies only: null is default permissions
		ByPath      bool             `json:"by_path,omitempty"`
		Done        []string         `json:"done"`
		Unsupported string           `json:"unsupported,omitempty"` // why the target version cannot make it
	}
	// Target is the entry a call is about.
	Target struct {
		Type plan.EntryType `json:"type"`
		Path string         `json:"path"`
		ID   int            `json:"id,omitempty"`
	}
)

// OptionalPolicies is a policy list that a document may leave out: absent
// (the zero value, Set false), null (default permissions: List nil) or a
// list. A pointer to a slice would read null back as absent.
type OptionalPolicies struct {
	Set  bool
	List []string
}

// Policies returns p set to list (nil: default permissions).
func Policies(list []string) OptionalPolicies { return OptionalPolicies{Set: true, List: list} }

// IsZero reports whether the field is absent, for omitzero.
func (p OptionalPolicies) IsZero() bool { return !p.Set }

// MarshalJSON writes the list, or null for default permissions.
func (p OptionalPolicies) MarshalJSON() ([]byte, error) { return json.Marshal(p.List) }

// UnmarshalJSON reads the list; null is default permissions.
func (p *OptionalPolicies) UnmarshalJSON(b []byte) error {
	*p = OptionalPolicies{Set: true}
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return json.Unmarshal(b, &p.List)
}

// Read reads a plan JSON document from r; name (a file name, or "-")
// prefixes every error. A document of another format version is refused:
// its fields may mean something else.
func Read(r io.Reader, name string) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: not a plan JSON document: %s", name, jsonError(data, err))
	}
	switch {
	case head.Version == nil:
		return nil, fmt.Errorf("%s: no plan format version: not a tokenscope plan JSON document", name)
	case *head.Version != Version:
		return nil, fmt.Errorf("%s: plan format version %d is not supported (this tokenscope reads version %d)", name, *head.Version, Version)
	}
	var doc Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a plan JSON document: %s", name, jsonError(data, err))
	}
	for i := range doc.Projects {
		switch doc.Projects[i].State {
		case "":
			// Written before the field existed: the plan was computed as if
			// the state were known.
			doc.Projects[i].State = plan.StateKnown
		case plan.StateKnown, plan.StateUnknown:
		default:
			return nil, fmt.Errorf("%s: project %s: state %q is not known or unknown", name, doc.Projects[i].Project, doc.Projects[i].State)
		}
	}
	return &doc, nil
}

// ReadFile reads the plan JSON document in file.
func ReadFile(file string) (*Document, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err // names the file already
	}
	defer f.Close()
	return Read(f, file)
}

// jsonError adds the line to a decoding error, for people to find it.
func jsonError(data []byte, err error) string {
	var off int64
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return err.Error()
	}
	line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}
