package backendtest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var objectTests = []test{
	{"GetMissing", testGetMissing},
	{"RoundTrip", testRoundTrip},
	{"PutIdempotent", testPutIdempotent},
	{"PutBatchThenHas", testPutBatchThenHas},
	{"EmptyBatches", testEmptyBatches},
	{"Copies", testCopies},
	{"GetMany", testGetManyFunc},
	{"Concurrent", testConcurrentObjects},
}

func testGetMissing(t *testing.T, s backend.Store) {
	missing := HashOf("missing")
	wantNotFound(t, s, missing)
	wantHas(t, s, []backend.Hash{missing}, []bool{false})

	mustPut(t, s, objectOf("present"))
	wantNotFound(t, s, missing)
	wantNotFound(t, s, backend.ZeroHash)
}

// testRoundTrip stores values a backend might mangle (NUL bytes, invalid
// UTF-8, nothing at all, a large value) and checks they come back exactly.
func testRoundTrip(t *testing.T, s backend.Store) {
	allBytes := make([]byte, 512)
	for i := range allBytes {
		allBytes[i] = byte(i) // every byte value, twice
	}
	large := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{'s', 't', 'r', 'a', 't', 'a'})
	_, _ = rng.Read(large)

	cases := []struct {
		name string
		data []byte
	}{
		{"small", []byte("hello, strata")},
		{"all byte values", allBytes},
		{"NUL bytes", []byte{0, 0, 0}},
		{"invalid UTF-8", []byte{0xff, 0xfe, 0xc3, 0x28}},
		{"empty", []byte{}},
		{"nil", nil},
		{"1 MiB", large},
	}
	for _, tc := range cases {
		h := HashOf("round trip/" + tc.name)
		mustPut(t, s, backend.Object{Hash: h, Data: tc.data})
		wantData(t, s, h, tc.data)
		wantHas(t, s, []backend.Hash{h}, []bool{true})
	}
	// Every value is still intact after the others were stored.
	for _, tc := range cases {
		wantData(t, s, HashOf("round trip/"+tc.name), tc.data)
	}
}

func testPutIdempotent(t *testing.T, s backend.Store) {
	a, b, c := objectOf("a"), objectOf("b"), objectOf("c")
	mustPut(t, s, a)
	mustPut(t, s, a) // already present: a no-op that succeeds
	wantData(t, s, a.Hash, a.Data)

	mustPut(t, s, b, b, a, c, b) // duplicates within one batch
	for _, o := range []backend.Object{a, b, c} {
		wantData(t, s, o.Hash, o.Data)
	}
	wantHas(t, s, hashes(a, b, c), []bool{true, true, true})
}

func testPutBatchThenHas(t *testing.T, s backend.Store) {
	const n = 200
	objs := make([]backend.Object, n)
	for i := range objs {
		objs[i] = objectOf(fmt.Sprintf("batch/%d", i))
	}
	mustPut(t, s, objs...)

	// Present and absent hashes interleaved, plus repeats, in a fixed order.
	var hs []backend.Hash
	var want []bool
	for i, o := range objs {
		hs = append(hs, o.Hash, HashOf(fmt.Sprintf("absent/%d", i)))
		want = append(want, true, false)
	}
	hs = append(hs, objs[0].Hash, objs[0].Hash, HashOf("absent/0"))
	want = append(want, true, true, false)
	wantHas(t, s, hs, want)

	for _, i := range []int{0, 1, n / 2, n - 1} {
		wantData(t, s, objs[i].Hash, objs[i].Data)
	}
}

func testEmptyBatches(t *testing.T, s backend.Store) {
	ctx := t.Context()
	for _, objs := range [][]backend.Object{nil, {}} {
		if err := s.Put(ctx, objs); err != nil {
			t.Errorf("Put(%#v): %v", objs, err)
		}
	}
	for _, hs := range [][]backend.Hash{nil, {}} {
		got, err := s.Has(ctx, hs)
		if err != nil || len(got) != 0 {
			t.Errorf("Has(%#v) = %v, %v; want no results and no error", hs, got, err)
		}
	}
}

// testCopies checks that the store keeps neither the caller's slice nor
// hands out its own: the caller owns what it passes and what it gets.
func testCopies(t *testing.T, s backend.Store) {
	h := HashOf("copies")
	in := []byte("original")
	mustPut(t, s, backend.Object{Hash: h, Data: in})
	in[0] = 'X'
	wantData(t, s, h, []byte("original"))

	got := mustGet(t, s, h)
	if len(got) > 0 {
		got[0] = 'Y'
	}
	_ = append(got[:0], "overwritten by append"...)
	wantData(t, s, h, []byte("original"))
}

// testConcurrentObjects has several goroutines put and read overlapping
// objects at once; run it with -race.
func testConcurrentObjects(t *testing.T, s backend.Store) {
	const goroutines, perGoroutine, distinct = 8, 40, 100
	objs := make([]backend.Object, distinct)
	for i := range objs {
		objs[i] = objectOf(fmt.Sprintf("concurrent/%d", i))
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range perGoroutine {
				o := objs[(g*perGoroutine/2+k)%distinct]
				if err := s.Put(ctx, []backend.Object{o}); err != nil {
					t.Errorf("goroutine %d: Put(%s): %v", g, o.Hash.Short(), err)
					return
				}
				got, err := s.Get(ctx, o.Hash)
				if err != nil {
					t.Errorf("goroutine %d: Get(%s) after Put: %v", g, o.Hash.Short(), err)
					return
				}
				if msg := diffBytes(o.Data, got); msg != "" {
					t.Errorf("goroutine %d: Get(%s): %s", g, o.Hash.Short(), msg)
				}
				has, err := s.Has(ctx, []backend.Hash{o.Hash})
				if err != nil || len(has) != 1 || !has[0] {
					t.Errorf("goroutine %d: Has(%s) after Put = %v, %v; want [true]", g, o.Hash.Short(), has, err)
				}
			}
		})
	}
	wg.Wait()
}

// testGetManyFunc checks backend.GetMany, which callers use whether or not
// the store implements backend.BatchGetter.
func testGetManyFunc(t *testing.T, s backend.Store) {
	a, absent := objectOf("a"), objectOf("absent")
	empty := backend.Object{Hash: HashOf("empty"), Data: nil}
	mustPut(t, s, a, empty)
	got, err := backend.GetMany(t.Context(), s, hashes(absent, a, empty, a))
	if err != nil {
		t.Fatalf("backend.GetMany: %v", err)
	}
	// A missing object is a nil entry, which cmp tells apart from an empty one.
	want := [][]byte{nil, a.Data, {}, a.Data}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backend.GetMany(absent, a, empty, a) mismatch (-want +got):\n%s", diff)
	}
}
