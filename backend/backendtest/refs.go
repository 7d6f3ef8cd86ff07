package backendtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratakv/strata/backend"
)

var refTests = []test{
	{"GetRefMissing", testGetRefMissing},
	{"ListRefs", testListRefs},
	{"CompareAndSwap", testCompareAndSwap},
	{"CompareAndSwapSequence", testCompareAndSwapSequence},
	{"CompareAndSwapRace", testCompareAndSwapRace},
	{"CompareAndSwapCounter", testCompareAndSwapCounter},
}

func testGetRefMissing(t *testing.T, s backend.Store) {
	wantRef(t, s, "refs/heads/main", backend.ZeroHash)
	mustCAS(t, s, "refs/heads/main", backend.ZeroHash, HashOf("main"))
	// Names are matched exactly, never by prefix.
	wantRef(t, s, "refs/heads/mai", backend.ZeroHash)
	wantRef(t, s, "refs/heads/main/x", backend.ZeroHash)
	wantRef(t, s, "refs/heads/MAIN", backend.ZeroHash)
	wantRef(t, s, "refs/heads/main", HashOf("main"))
}

// refNames are names that trip up backends which sort by a collation rather
// than by bytes, or filter with glob or LIKE patterns instead of a literal
// prefix.
var refNames = []string{
	"HEAD",
	"a",
	"refs/heads/Zeta",
	"refs/heads/dev",
	"refs/heads/feature/x",
	"refs/heads/main",
	"refs/heads/ünïcode",
	"refs/headsX",
	"refs/tags/v1.0",
	"refs/x%y",
	"refs/x*y",
	"refs/x?y",
	"refs/x[y",
	"refs/x\\y",
	"refs/x_y",
	"refs/xay",
}

func testListRefs(t *testing.T, s backend.Store) {
	wantRefs(t, s, "", nil)

	// Create the refs out of order; ListRefs must sort them.
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(refNames)) {
		mustCAS(t, s, refNames[i], backend.ZeroHash, HashOf(refNames[i]))
	}
	prefixes := []string{
		"", "refs/", "refs/heads/", "refs/heads", "refs/heads/f", "HEAD", "a",
		"refs/heads/main", "refs/heads/main/", "nope", "refs/x%", "refs/x*",
		"refs/x?", "refs/x[", "refs/x\\", "refs/x_", "refs/ü", "refs/heads/ü",
	}
	check := func(live []string) {
		t.Helper()
		for _, p := range prefixes {
			var want []backend.Ref
			for _, n := range live { // live is sorted bytewise
				if strings.HasPrefix(n, p) {
					want = append(want, backend.Ref{Name: n, Hash: HashOf(n)})
				}
			}
			wantRefs(t, s, p, want)
		}
	}
	live := slices.Sorted(slices.Values(refNames))
	check(live)

	// Deleted refs are no longer listed.
	for _, n := range []string{"refs/heads/dev", "refs/x%y"} {
		mustCAS(t, s, n, HashOf(n), backend.ZeroHash)
		live = slices.DeleteFunc(live, func(l string) bool { return l == n })
	}
	check(live)
}

// testCompareAndSwap checks every case of CompareAndSwapRef from a known
// starting state. The ref keeps its value unless the swap succeeds.
func testCompareAndSwap(t *testing.T, s backend.Store) {
	z := backend.ZeroHash
	a, b, c := HashOf("a"), HashOf("b"), HashOf("c")
	cases := []struct {
		name         string
		before       backend.Hash // zero: absent
		old, new     backend.Hash
		wantConflict bool
	}{
		{"create absent", z, z, a, false},
		{"create present", a, z, b, true},
		{"create present same value", a, z, a, true},
		{"update right old", a, a, b, false},
		{"update wrong old", a, c, b, true},
		{"update absent", z, a, b, true},
		{"delete right old", a, a, z, false},
		{"delete wrong old", a, c, z, true},
		{"delete absent", z, a, z, true},
		{"same value", a, a, a, false},
		{"zero to zero absent", z, z, z, false},
		{"zero to zero present", a, z, z, true},
	}
	var want []backend.Ref
	for i, tc := range cases {
		name := fmt.Sprintf("refs/cas/%02d", i)
		t.Run(tc.name, func(t *testing.T) {
			if !tc.before.IsZero() {
				mustCAS(t, s, name, z, tc.before)
			}
			err := s.CompareAndSwapRef(t.Context(), name, tc.old, tc.new)
			after := tc.new
			if tc.wantConflict {
				after = tc.before
				if !errors.Is(err, backend.ErrConflict) {
					t.Errorf("CompareAndSwapRef(%q, %s -> %s) with the ref %s = %v; want an error wrapping backend.ErrConflict",
						name, tc.old.Describe(), tc.new.Describe(), tc.before.Describe(), err)
				}
			} else if err != nil {
				t.Errorf("CompareAndSwapRef(%q, %s -> %s) with the ref %s: %v",
					name, tc.old.Describe(), tc.new.Describe(), tc.before.Describe(), err)
			}
			wantRef(t, s, name, after)
		})
		want = append(want, backend.Ref{Name: name, Hash: tc.new})
		if tc.wantConflict {
			want[len(want)-1].Hash = tc.before
		}
	}
	want = slices.DeleteFunc(want, func(r backend.Ref) bool { return r.Hash.IsZero() })
	// No case disturbed another ref.
	wantRefs(t, s, "refs/cas/", want)
}

// testCompareAndSwapSequence walks one ref through its whole life.
func testCompareAndSwapSequence(t *testing.T, s backend.Store) {
	const name = "refs/heads/main"
	z := backend.ZeroHash
	steps := []backend.Hash{HashOf("1"), HashOf("2"), z, HashOf("3"), HashOf("1"), z}
	cur := z
	for _, next := range steps {
		mustCAS(t, s, name, cur, next)
		wantRef(t, s, name, next)
		// The previous value no longer matches (unless it is the same).
		if cur != next {
			err := s.CompareAndSwapRef(t.Context(), name, cur, HashOf("stale"))
			if !errors.Is(err, backend.ErrConflict) {
				t.Fatalf("CompareAndSwapRef(%q, %s -> stale) after it moved to %s = %v; want an error wrapping backend.ErrConflict",
					name, cur.Describe(), next.Describe(), err)
			}
		}
		cur = next
	}
}

// testCompareAndSwapRace has many goroutines race one swap from the same
// old value: exactly one must win and the others see ErrConflict.
func testCompareAndSwapRace(t *testing.T, s backend.Store) {
	const goroutines, rounds = 32, 6
	for round := range rounds {
		name := fmt.Sprintf("refs/race/%d", round)
		old := backend.ZeroHash // even rounds race to create the ref
		if round%2 == 1 {
			old = HashOf(name)
			mustCAS(t, s, name, backend.ZeroHash, old)
		}
		errs := make([]error, goroutines)
		news := make([]backend.Hash, goroutines)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range goroutines {
			news[g] = HashOf(fmt.Sprintf("%s/%d", name, g))
			wg.Go(func() {
				<-start
				errs[g] = s.CompareAndSwapRef(t.Context(), name, old, news[g])
			})
		}
		close(start)
		wg.Wait()

		var winners []int
		for g, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, g)
			case !errors.Is(err, backend.ErrConflict):
				t.Errorf("round %d (%q from %s): goroutine %d: %v; want nil or an error wrapping backend.ErrConflict",
					round, name, old.Describe(), g, err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d (%q from %s): %d of %d goroutines won the same compare-and-swap (%v); want exactly one",
				round, name, old.Describe(), len(winners), goroutines, winners)
		}
		winner := winners[0]
		wantRef(t, s, name, news[winner])
	}
}

// testCompareAndSwapCounter increments a counter held in a ref from several
// goroutines with read-CAS-retry loops. A non-atomic swap loses increments.
func testCompareAndSwapCounter(t *testing.T, s backend.Store) {
	const name = "refs/counter"
	const goroutines, increments = 8, 20
	value := func(n int) backend.Hash { return HashOf(fmt.Sprintf("counter/%d", n)) }
	number := make(map[backend.Hash]int)
	for n := range goroutines*increments + 1 {
		number[value(n)] = n
	}
	mustCAS(t, s, name, backend.ZeroHash, value(0))

	ctx := t.Context()
	var successes atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt == 10000 {
						t.Errorf("goroutine %d: no progress after %d attempts", g, attempt)
						return
					}
					cur, err := s.GetRef(ctx, name)
					if err != nil {
						t.Errorf("goroutine %d: GetRef(%q): %v", g, name, err)
						return
					}
					n, ok := number[cur]
					if !ok {
						t.Errorf("goroutine %d: GetRef(%q) = %s, which was never written", g, name, cur.Short())
						return
					}
					err = s.CompareAndSwapRef(ctx, name, cur, value(n+1))
					if err == nil {
						successes.Add(1)
						break
					}
					if !errors.Is(err, backend.ErrConflict) {
						t.Errorf("goroutine %d: CompareAndSwapRef(%q, %d -> %d): %v", g, name, n, n+1, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got, err := s.GetRef(ctx, name)
	if err != nil {
		t.Fatalf("GetRef(%q): %v", name, err)
	}
	if number[got] != goroutines*increments || successes.Load() != goroutines*increments {
		t.Errorf("after %d successful increments the counter is %d, want %d (lost updates: the swap is not atomic)",
			successes.Load(), number[got], goroutines*increments)
	}
}
