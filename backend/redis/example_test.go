package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/redis"
)

// Open needs a running server, so this example is compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	s, err := redis.Open(ctx, "redis://localhost:6379/0?prefix=myapp")
	if err != nil {
		log.Fatal(err) // names the address, never the password
	}
	defer s.Close()

	h := backend.Hash{1} // the layers above compute BLAKE3 hashes
	if err := s.Put(ctx, []backend.Object{{Hash: h, Data: []byte("hello")}}); err != nil {
		log.Fatal(err)
	}
	err = s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h)
	if errors.Is(err, backend.ErrConflict) {
		fmt.Println("someone else created the branch first")
	}
}

func ExampleParseURL() {
	cfg, err := redis.ParseURL("redis://node1:7000?addr=node2:7000&addr=node3:7000&prefix=myapp&wait=1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Addr(), cfg.Prefix, cfg.Wait)

	_, err = redis.ParseURL("redis://alice:s3cret@localhost:6379/0?prefx=myapp")
	fmt.Println(errors.Is(err, backend.ErrInvalidURL))
	fmt.Println(err)
	// Output:
	// cluster node1:7000,node2:7000,node3:7000 myapp 1
	// true
	// invalid store URL: redis://alice:xxxxx@localhost:6379/0?prefx=myapp: redis: unexpected option: prefx
}

func ExampleRedact() {
	fmt.Println(redis.Redact("rediss://alice:s3cret@redis.example.com:6380/2?prefix=myapp"))
	// Output: rediss://alice:xxxxx@redis.example.com:6380/2?prefix=myapp
}
