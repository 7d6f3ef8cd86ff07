package strata_test

import (
	"errors"
	"testing"

	"github.com/stratakv/strata"
)

// TestTxUsedAfterItsFunction: a Tx is valid only while its Update's
// function runs. Its Builder then goes back to a pool and the next write
// reuses it, so a Tx kept past its function must not reach it: every
// method returns an error wrapping ErrClosed, and nothing it was asked to
// do shows up in later commits, which hold exactly what they wrote.
func TestTxUsedAfterItsFunction(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	var kept *strata.Tx
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		kept = tx
		return tx.Set("a/x", []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	head, err := main.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"Set":      kept.Set("a/late", []byte("no")),
		"SetTree":  kept.SetTree("b", head),
		"Delete":   kept.Delete("a/x"),
		"SetValue": kept.SetValue("a/v", strata.Text("no")),
	}
	_, calls["Get"] = kept.Get("a/x")
	_, calls["List"] = kept.List("a")
	_, calls["GetValue"] = kept.GetValue("a/x")
	_, calls["Add"] = kept.Add("a/n", 1)
	for name, err := range calls {
		if !errors.Is(err, strata.ErrClosed) {
			t.Errorf("Tx.%s after its function returned: %v, want ErrClosed", name, err)
		}
	}
	// Writes after it reuse the pooled Builder and hold what they wrote.
	h, err := main.Update(ctx, func(tx *strata.Tx) error {
		if _, err := kept.Get("a/x"); !errors.Is(err, strata.ErrClosed) {
			t.Errorf("the kept Tx during another Update: %v, want ErrClosed", err)
		}
		return tx.Set("a/y", []byte("2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := main.Set(ctx, "a/z", []byte("3")); err != nil {
		t.Fatal(err)
	}
	got, err := dumpBranch(kv, "main")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a/x": "1", "a/y": "2", "a/z": "3"}
	if len(got) != len(want) {
		t.Errorf("branch holds %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (branch %v)", k, got[k], v, got)
		}
	}
	s, err := kv.At(ctx, h.String())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "a/y"); err != nil || string(v) != "2" {
		t.Errorf("a/y at its commit: %q, %v", v, err)
	}
}
