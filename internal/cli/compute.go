package cli

import (
	"context"

	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// computePlan is the flow plan, audit and report share on a loaded
// source: the trust file (when given) checked against it first (its
// mistakes are the user's to fix first, and cheap to find), then the
// scan, its diagnostics printed, then the plan.
func computePlan(ctx context.Context, io *IO, snap *inventory.Snapshot, trustFile string, quiet bool, opts plan.Options, lim limits.Values) (*plan.Plan, *trust.File, error) {
	var tf *trust.File
	if trustFile != "" {
		var err error
		if tf, err = loadTrust(io, trustFile, trust.LoadOptions{Index: snap.Index, Now: io.Now()}, quiet); err != nil {
			return nil, nil, err
		}
	}
	g, diags, err := discovery.Scan(ctx, snap, discovery.Options{Limits: lim})
	if err != nil {
		return nil, nil, err
	}
	printDiags(io, diags, quiet)
	return plan.Compute(g, snap.Index, tf, opts), tf, nil
}
