package strata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// damage replaces the object h in kv's backend by data (nil: deletes it).
func damage(t *testing.T, kv *strata.KV, h strata.Hash, data []byte) {
	t.Helper()
	s := kv.Backend()
	del, ok := s.(backend.ObjectDeleter)
	if !ok {
		t.Fatal("backend cannot delete objects")
	}
	if err := del.DeleteObjects(ctx, []backend.Hash{h}); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		if err := s.Put(ctx, []backend.Object{{Hash: h, Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
}

func testFsck(t *testing.T, kv *strata.KV) {
	main := kv.Branch("main")
	// Longer than node.MaxInline, so the value is a contents object of its own.
	const host = "db1.internal.example.com:5432/primary"
	must[strata.Hash](t)(main.Set(ctx, "config/db/host", []byte(host)))
	must[strata.Hash](t)(main.Set(ctx, "config/db/port", []byte("5432")))
	must[strata.Hash](t)(main.Set(ctx, "other/x", []byte("x")))
	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	if len(rep.Problems) != 0 || rep.Commits != 3 {
		t.Fatalf("clean store: %+v", rep)
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, "main"))
	tr := tree.New(node.NewStore(kv.Backend(), -1), snap.Commit().Tree)

	// Flip a byte of the value at config/db/host.
	vh, _, err := tr.SubtreeHash(ctx, []string{"config", "db", "host"})
	if err != nil {
		t.Fatal(err)
	}
	orig := must[[]byte](t)(kv.Backend().Get(ctx, vh))
	flipped := append([]byte{}, orig...)
	flipped[len(flipped)-1] ^= 0x20
	damage(t, kv, vh, flipped)
	if v, err := main.Get(ctx, "config/db/host"); !errors.Is(err, strata.ErrCorrupt) || !strings.Contains(err.Error(), vh.String()) {
		t.Fatalf("get of a corrupt value = %q, %v; want ErrCorrupt naming %s", v, err, vh)
	}
	// Remove the node of other/.
	nh, _, err := tr.SubtreeHash(ctx, []string{"other"})
	if err != nil {
		t.Fatal(err)
	}
	damage(t, kv, nh, nil)

	rep = must[*strata.FsckReport](t)(kv.Fsck(ctx, "main"))
	if len(rep.Problems) != 2 {
		t.Fatalf("problems = %v", rep.Problems)
	}
	var corrupt, missing bool
	for _, p := range rep.Problems {
		switch {
		case p.Hash == vh && errors.Is(p.Err, strata.ErrCorrupt) && strings.HasSuffix(p.Where, "config/db/host") && p.Object == "contents":
			corrupt = true
		case p.Hash == nh && errors.Is(p.Err, strata.ErrMissing) && !errors.Is(p.Err, strata.ErrNotFound) && strings.HasSuffix(p.Where, "other/") && p.Object == "node":
			missing = true
		default:
			t.Errorf("unexpected problem %v", p)
		}
	}
	if !corrupt || !missing {
		t.Errorf("problems = %v", rep.Problems)
	}
	// Repair and re-check.
	damage(t, kv, vh, orig)
	if v := must[[]byte](t)(main.Get(ctx, "config/db/host")); string(v) != host {
		t.Errorf("after repair: %q", v)
	}
}

func TestFsckMem(t *testing.T) { testFsck(t, openMem(t)) }
