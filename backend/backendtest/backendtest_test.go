package backendtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/mem"
)

// bugVar selects the bug TestBrokenStore plants; it is set only in the
// child processes TestSuiteCatchesBugs starts.
const bugVar = "STRATA_BACKENDTEST_BUG"

// TestSuiteCatchesBugs checks the checker: for each bug seen in real
// backends (go-git's in-memory CAS among them), it runs the suite against a
// store with that bug, in a child process, and expects the named subtest to
// fail.
func TestSuiteCatchesBugs(t *testing.T) {
	cases := []struct {
		bug     string
		failing string // a subtest of TestBrokenStore that must fail
	}{
		{"missingMatches", "Refs/CompareAndSwap/update_absent"},
		{"racyCAS", "Refs/CompareAndSwapRace"},
		{"sharesBytes", "Objects/Copies"},
		{"ignoresContext", "Lifecycle/CanceledContext"},
		{"closeIsNoop", "Lifecycle/Closed"},
		{"unfilteredRefs", "Refs/ListRefs"},
	}
	for _, tc := range cases {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStore$", "-test.v")
			cmd.Env = append(os.Environ(), bugVar+"="+tc.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with bug %q:\n%s", tc.bug, out)
			}
			if want := "--- FAIL: TestBrokenStore/" + tc.failing + " "; !strings.Contains(string(out), want) {
				t.Errorf("with bug %q, subtest %s did not fail:\n%s", tc.bug, tc.failing, out)
			}
		})
	}
}

// TestBrokenStore runs the suite against a store with the bug named by
// $STRATA_BACKENDTEST_BUG. It is meant to fail, so it runs only as a child
// of TestSuiteCatchesBugs.
func TestBrokenStore(t *testing.T) {
	bug := os.Getenv(bugVar)
	if bug == "" {
		t.Skip("runs only as a child process of TestSuiteCatchesBugs")
	}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		return &broken{Store: mem.New(), bug: bug, shared: make(map[backend.Hash][]byte)}
	})
}

// broken is a mem.Store with one planted bug. Embedding keeps the optional
// interfaces, so their tests run too.
type broken struct {
	*mem.Store
	bug string

	mu     sync.Mutex
	shared map[backend.Hash][]byte // sharesBytes: the caller's slices, kept
}

func (b *broken) ctx(ctx context.Context) context.Context {
	if b.bug == "ignoresContext" {
		return context.Background()
	}
	return ctx
}

func (b *broken) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	if b.bug == "sharesBytes" {
		b.mu.Lock()
		defer b.mu.Unlock()
		if d, ok := b.shared[h]; ok {
			return d, nil
		}
	}
	return b.Store.Get(b.ctx(ctx), h)
}

func (b *broken) Put(ctx context.Context, objs []backend.Object) error {
	if b.bug == "sharesBytes" {
		b.mu.Lock()
		for _, o := range objs {
			b.shared[o.Hash] = o.Data
		}
		b.mu.Unlock()
	}
	return b.Store.Put(b.ctx(ctx), objs)
}

func (b *broken) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	return b.Store.Has(b.ctx(ctx), hs)
}

func (b *broken) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	return b.Store.GetRef(b.ctx(ctx), name)
}

func (b *broken) ListRefs(ctx context.Context, prefix string) ([]backend.Ref, error) {
	if b.bug == "unfilteredRefs" {
		prefix = ""
	}
	return b.Store.ListRefs(b.ctx(ctx), prefix)
}

func (b *broken) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	ctx = b.ctx(ctx)
	switch b.bug {
	case "missingMatches": // a missing ref matches any old value
		if _, err := b.Store.GetRef(ctx, name); errors.Is(err, backend.ErrNotFound) {
			old = backend.ZeroHash
		}
	case "racyCAS": // check, then write without holding a lock
		cur, err := b.Store.GetRef(ctx, name)
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return err
		}
		if cur != old {
			return backend.ErrConflict
		}
		time.Sleep(time.Millisecond)
		for {
			cur, _ := b.Store.GetRef(ctx, name)
			if err := b.Store.CompareAndSwapRef(ctx, name, cur, new); !errors.Is(err, backend.ErrConflict) {
				return err
			}
		}
	}
	return b.Store.CompareAndSwapRef(ctx, name, old, new)
}

func (b *broken) Close() error {
	if b.bug == "closeIsNoop" {
		return nil
	}
	return b.Store.Close()
}
