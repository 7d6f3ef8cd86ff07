package pebble_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/pebble"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "strata-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := pebble.Open(ctx, dir, nil) // creates the store
	if err != nil {
		log.Fatal(err)
	}
	// The layers above hash objects with BLAKE3; a backend only stores
	// bytes under the key it is given, so any 32 bytes will do here.
	data := []byte("hello")
	h := backend.Hash(sha256.Sum256(data))
	if err := s.Put(ctx, []backend.Object{{Hash: h, Data: data}}); err != nil {
		log.Fatal(err)
	}
	// Put and CompareAndSwapRef are fsynced when they return nil.
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h); err != nil {
		log.Fatal(err)
	}

	// While s is open, the directory is locked.
	_, err = pebble.Open(ctx, dir, &pebble.Options{LockTimeout: 10 * time.Millisecond})
	fmt.Println("second open locked:", errors.Is(err, pebble.ErrLocked))
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	s, err = pebble.Open(ctx, dir, &pebble.Options{MustExist: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	main, err := s.GetRef(ctx, "refs/heads/main")
	if err != nil {
		log.Fatal(err)
	}
	got, err := s.Get(ctx, main)
	fmt.Printf("main -> %s: %s %v\n", main.Short(), got, err)

	_, err = pebble.Open(ctx, dir+"-missing", &pebble.Options{MustExist: true})
	fmt.Println("missing store:", errors.Is(err, backend.ErrNotFound))
	// Output:
	// second open locked: true
	// main -> 2cf24dba5fb0: hello <nil>
	// missing store: true
}
