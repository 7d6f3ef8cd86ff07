package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/commit"
)

// WriteCommitGraph writes the commit-graph runs missing for the history of
// every branch, tag and remote-tracking ref (see commit.WriteGraph and
// docs/FORMAT.md) and returns how many it wrote. With them, a merge-base
// search on a cold cache reads one object per commit.RunLen commits of a
// first-parent chain instead of each commit, which matters on disk and
// network backends.
//
// Runs are derived data, like git's commit-graph file: nothing needs them
// for correctness, and a search that finds none or a damaged one reads the
// commits instead. Commits made by this package's writers have their runs
// written once they land, in the background (see docs/ARCHITECTURE.md,
// "Merges"); this call first waits for those of kv's commits, then fills
// in the runs of commits that arrived otherwise (fetch, clone, an older
// version, another program). It is safe to run concurrently with writers,
// and on a shallow clone (no run reaches past its cut). Damaged refs are
// skipped (Branches, Tags and Remotes report them); a missing or corrupt
// commit in a history returns its error (ErrMissing or ErrCorrupt), and a
// read-only store returns ErrReadOnly.
func (kv *KV) WriteCommitGraph(ctx context.Context) (int, error) {
	kv.graph.wait()
	bs, err := kv.Branches(ctx)
	if bs == nil && err != nil {
		return 0, err
	}
	heads := make([]Hash, 0, len(bs))
	for _, b := range bs {
		heads = append(heads, b.Head)
	}
	for _, ns := range [...]struct{ prefix, kind string }{{tagPrefix, "tag"}, {trackPrefix, "remote-tracking ref"}} {
		refs, err := kv.listRefs(ctx, ns.prefix, ns.kind)
		if refs == nil && err != nil {
			return 0, fmt.Errorf("strata: write commit graph: %w", err)
		}
		for _, r := range refs {
			heads = append(heads, r.Hash)
		}
	}
	shallow, err := kv.shallowSet(ctx)
	if err != nil {
		return 0, fmt.Errorf("strata: write commit graph: %w", err)
	}
	n, err := commit.WriteGraph(ctx, kv.store, kv.nodes, heads, shallow)
	if err != nil {
		return n, fmt.Errorf("strata: write commit graph: %w", err)
	}
	return n, nil
}
