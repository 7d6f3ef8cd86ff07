package mem_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stratakv/strata/backend"
)

// TestConcurrentPutGet stores objects from several goroutines at once,
// through Put and PutOwnedAndSwapRef, while others read and delete them
// (run with -race), enough of them that the object table grows many times
// meanwhile, and then checks that every object not deleted reads back.
func TestConcurrentPutGet(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	const writers, each = 4, 3000
	obj := func(w, i int) backend.Object {
		var h backend.Hash
		copy(h[:], fmt.Sprintf("w%d/%06d", w, i))
		h[31] = byte(i)
		return backend.Object{Hash: h, Data: fmt.Appendf(nil, "data %d %d", w, i)}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				o := obj(w, i)
				var err error
				if i%2 == 0 {
					err = s.Put(ctx, []backend.Object{o})
				} else {
					err = s.PutOwnedAndSwapRef(ctx, []backend.Object{o}, fmt.Sprint("r", w), backend.ZeroHash, backend.ZeroHash)
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if i%3 == 0 { // every third one is deleted again
					if err := s.DeleteObjects(ctx, []backend.Hash{o.Hash}); err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range each {
				o := obj((w+1)%writers, i)
				b, err := s.GetMany(ctx, []backend.Hash{o.Hash})
				if err != nil {
					t.Errorf("reader %d: %v", w, err)
					return
				}
				if b[0] != nil && !bytes.Equal(b[0], o.Data) {
					t.Errorf("reader %d: object %d reads %q, want %q", w, i, b[0], o.Data)
					return
				}
			}
		}()
	}
	wg.Wait()
	for w := range writers {
		for i := range each {
			o := obj(w, i)
			b, err := s.GetMany(ctx, []backend.Hash{o.Hash})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case i%3 == 0 && b[0] != nil:
				t.Fatalf("object %d/%d was deleted but reads %q", w, i, b[0])
			case i%3 != 0 && !bytes.Equal(b[0], o.Data):
				t.Fatalf("object %d/%d reads %q, want %q", w, i, b[0], o.Data)
			}
		}
	}
}
