package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server"
)

// TestProofEndpoint: GET /v1/proof gives a proof that VerifyProof accepts
// for the commit in its ETag, of a value or of its absence; a bad path is
// 400, an unknown revision 404.
func TestProofEndpoint(t *testing.T) {
	kv, _, ts := startServer(t, server.Options{})
	ctx := context.Background()
	head, err := kv.Branch("main").Set(ctx, "dir/x", []byte("the value"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, []byte, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + "/v1/proof/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b, resp.Header.Get("ETag")
	}
	code, body, etag := get("dir/x?at=main")
	if code != 200 || etag != `"`+head.String()+`"` {
		t.Fatalf("proof: %d %s, ETag %s", code, body, etag)
	}
	p, err := strata.ParseProof(body)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := strata.VerifyProof(head, "dir/x", p); err != nil || string(v) != "the value" {
		t.Fatalf("verify: %q, %v", v, err)
	}
	code, body, _ = get("dir/none")
	if p, err = strata.ParseProof(body); code != 200 || err != nil {
		t.Fatalf("proof of absence: %d %s %v", code, body, err)
	}
	if _, err := strata.VerifyProof(head, "dir/none", p); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("verify absence: %v, want ErrNotFound", err)
	}
	if code, body, _ = get("a/%2e%2e/b"); code != 400 {
		t.Errorf("bad path: %d %s, want 400", code, body)
	}
	if code, body, _ = get("dir/x?at=nobranch"); code != 404 {
		t.Errorf("unknown revision: %d %s, want 404", code, body)
	}
}
