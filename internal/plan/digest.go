package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// StateDigest identifies the allowlist state of inv: every project's
// inbound setting and allowlist entries (with policies), and the instance
// setting. The authentication log and everything else are left out: they
// change without making a plan wrong. Apply recomputes it from the live
// state and refuses a plan whose digest differs (the org moved since the
// plan was made). The value is "sha256:" and 64 hex digits.
func StateDigest(inv *inventory.Inventory) string {
	type entry struct {
		Path     string   `json:"p"`
		ID       int      `json:"i,omitempty"`
		Policies []string `json:"k"`
	}
	type project struct {
		Path     string  `json:"p"`
		ID       int     `json:"i,omitempty"`
		Known    bool    `json:"s"`
		Unknown  bool    `json:"u,omitempty"` // asked for, not readable
		Enabled  bool    `json:"e"`
		Projects []entry `json:"a"`
		Groups   []entry `json:"g"`
	}
	state := struct {
		Instance *bool     `json:"instance"`
		Projects []project `json:"projects"`
	}{Instance: inv.InstanceEnforcesAllowlist}
	conv := func(es []inventory.Entry) []entry {
		out := make([]entry, 0, len(es))
		for _, e := range es {
			out = append(out, entry{Path: strings.ToLower(e.Path), ID: e.ID, Policies: e.Policies})
		}
		return out
	}
	for _, p := range inv.Canonical().Projects {
		pr := project{Path: strings.ToLower(p.Path), ID: p.ID, Unknown: p.StateUnknown()}
		if s := p.JobTokenScope; s != nil {
			pr.Known, pr.Enabled = true, s.InboundEnabled
			pr.Projects, pr.Groups = conv(s.Allowlist.Projects), conv(s.Allowlist.Groups)
		}
		state.Projects = append(state.Projects, pr)
	}
	data, err := json.Marshal(state)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
