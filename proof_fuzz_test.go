package strata_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stratakv/strata"
)

// FuzzVerifyProof: any input either fails to parse or verify with
// ErrInvalidProof, proves absence (ErrNotFound), or verifies — and a proof
// that verifies for the seeds' commit and path gives the true value: a
// forged proof never passes.
func FuzzVerifyProof(f *testing.F) {
	kv, head := proofStore(f)
	want := map[string][]byte{}
	for _, path := range []string{"a", "dir/long", "dir/sub/y", "nothing"} { // small seeds: fast inputs
		p, err := kv.Prove(ctx, "main", path)
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		want[path], _ = kv.Branch("main").Get(ctx, path)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := strata.ParseProof(data)
		if err != nil {
			if !errors.Is(err, strata.ErrInvalidProof) {
				t.Fatalf("parse: %v, want ErrInvalidProof", err)
			}
			return
		}
		v, err := strata.VerifyProof(p.Commit, p.Path, p)
		if err != nil && !errors.Is(err, strata.ErrInvalidProof) && !errors.Is(err, strata.ErrNotFound) {
			t.Fatalf("verify: %v, want ErrInvalidProof or ErrNotFound", err)
		}
		if p.Commit != head {
			return
		}
		w, known := want[p.Path]
		switch {
		case !known:
		case err == nil && !bytes.Equal(v, w):
			t.Fatalf("%s verified to %q, the value is %q", p.Path, v, w)
		case errors.Is(err, strata.ErrNotFound) && w != nil:
			t.Fatalf("%s proved absent, the value is %q", p.Path, w)
		}
	})
}
