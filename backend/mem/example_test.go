package mem_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

func Example() {
	ctx := context.Background()
	s := mem.New()
	defer s.Close()

	// The layers above hash objects with BLAKE3; a backend only stores bytes
	// under the key it is given, so any 32 bytes will do here.
	data := []byte("hello")
	h := backend.Hash(sha256.Sum256(data))
	if err := s.Put(ctx, []backend.Object{{Hash: h, Data: data}}); err != nil {
		log.Fatal(err)
	}
	got, err := s.Get(ctx, h)
	fmt.Printf("%s %v\n", got, err)

	_, err = s.Get(ctx, backend.Hash{1})
	fmt.Println("missing object:", errors.Is(err, backend.ErrNotFound))

	// Create a branch: ZeroHash as the old value means "must be absent".
	err = s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h)
	fmt.Println("create:", err)
	err = s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h)
	fmt.Println("create again:", errors.Is(err, backend.ErrConflict))

	refs, err := s.ListRefs(ctx, "refs/heads/")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range refs {
		fmt.Println(r.Name, r.Hash.Short())
	}
	// Output:
	// hello <nil>
	// missing object: true
	// create: <nil>
	// create again: true
	// refs/heads/main 2cf24dba5fb0
}

func ExampleStore_WatchRefs() {
	ctx, cancel := context.WithCancel(context.Background())
	s := mem.New()
	defer s.Close()

	events, err := s.WatchRefs(ctx, "refs/heads/")
	if err != nil {
		log.Fatal(err)
	}
	a, b := backend.Hash{0xaa}, backend.Hash{0xbb}
	_ = s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, a)
	_ = s.CompareAndSwapRef(ctx, "refs/tags/v1", backend.ZeroHash, a) // not under the prefix
	_ = s.CompareAndSwapRef(ctx, "refs/heads/main", a, b)
	_ = s.CompareAndSwapRef(ctx, "refs/heads/main", b, backend.ZeroHash)
	cancel() // the channel is closed once the buffered events are read

	for ev := range events {
		fmt.Printf("%s: %s -> %s\n", ev.Name, ev.Old.Short(), ev.New.Short())
	}
	// Output:
	// refs/heads/main: 000000000000 -> aa0000000000
	// refs/heads/main: aa0000000000 -> bb0000000000
	// refs/heads/main: bb0000000000 -> 000000000000
}
