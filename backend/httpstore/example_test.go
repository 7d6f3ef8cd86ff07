package httpstore_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/mem"
)

// Serve an in-memory store over HTTP and use it through the client: one
// request stores an object and moves a ref.
func Example() {
	ctx := context.Background()
	served := mem.New()
	defer served.Close()
	srv := httptest.NewServer(httpstore.NewHandler(served, nil))
	defer srv.Close()

	s, err := httpstore.Open(ctx, srv.URL, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	obj := backend.Object{Hash: backend.Hash{1}, Data: []byte("hello")}
	if err := s.PutAndSwapRef(ctx, []backend.Object{obj}, "heads/main", backend.ZeroHash, obj.Hash); err != nil {
		fmt.Println(err)
		return
	}
	head, _ := s.GetRef(ctx, "heads/main")
	data, _ := s.Get(ctx, head)
	fmt.Printf("%s\n", data)
	// Output: hello
}
