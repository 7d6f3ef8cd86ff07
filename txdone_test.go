package strata_test

import (
	"errors"
	"testing"

	"github.com/stratakv/strata"
)

// TestTxUsedAfterItsFunction: a Tx is valid only while its Update's
// function runs. Its Builder then goes back to a pool and the next write
// reuses it, so a Tx kept past its function must not reach it: every
// method returns an error wrapping ErrTxDone, and nothing it was asked to
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
		if !errors.Is(err, strata.ErrTxDone) {
			t.Errorf("Tx.%s after its function returned: %v, want ErrTxDone", name, err)
		}
	}
	// Writes after it reuse the pooled Builder and hold what they wrote.
	h, err := main.Update(ctx, func(tx *strata.Tx) error {
		if _, err := kept.Get("a/x"); !errors.Is(err, strata.ErrTxDone) {
			t.Errorf("the kept Tx during another Update: %v, want ErrTxDone", err)
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

// TestTxEndsWhenItsFunctionPanics: a function that panics ends its Tx
// too. A writer's first attempt starts from the head it last wrote; a
// panic there leaves the write undecided, the attempt on the real head
// runs the function again (on a Builder that may be the first run's,
// back from the pool), and the first run's Tx, kept, must reach neither
// that run's Builder nor any later write's.
func TestTxEndsWhenItsFunctionPanics(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	if _, err := main.Set(ctx, "seed", []byte("s")); err != nil { // a head to guess
		t.Fatal(err)
	}
	var kept []*strata.Tx
	func() {
		defer func() { _ = recover() }() // if the panic reaches the caller
		_, _ = main.Update(ctx, func(tx *strata.Tx) error {
			kept = append(kept, tx)
			if len(kept) == 1 {
				panic("boom")
			}
			if _, err := kept[0].Get("seed"); !errors.Is(err, strata.ErrTxDone) {
				t.Errorf("the panicked run's Tx during the next run: %v, want ErrTxDone", err)
			}
			return tx.Set("a", []byte("1"))
		})
	}()
	if len(kept) == 0 {
		t.Fatal("the function never ran")
	}
	for i, tx := range kept {
		if err := tx.Set("late", []byte("x")); !errors.Is(err, strata.ErrTxDone) {
			t.Errorf("run %d's Tx after Update: %v, want ErrTxDone", i, err)
		}
	}
	if _, err := main.Set(ctx, "b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Get(ctx, "late"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("late: %v, want ErrNotFound (a kept Tx wrote into a later write)", err)
	}
}
