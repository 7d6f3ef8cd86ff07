package strata_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/internal/codec"
)

// proofStore returns a store whose branch main holds small values, a
// value too long to be inline, a nested directory and a directory of 5,000
// entries (stored as index objects), and its head.
func proofStore(t testing.TB) (*strata.KV, strata.Hash) {
	t.Helper()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	h, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
		for _, kv := range [][2]string{
			{"a", "1"},
			{"dir/x", "small"},
			{"dir/sub/y", "deeper"},
			{"dir/long", strings.Repeat("a long value, stored as its own object ", 4)},
		} {
			if err := tx.Set(kv[0], []byte(kv[1])); err != nil {
				return err
			}
		}
		for i := range 5000 {
			if err := tx.Set(fmt.Sprintf("big/k%05d", i), []byte(fmt.Sprintf("value number %d, long enough to be an object", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kv, h
}

func prove(t testing.TB, kv *strata.KV, rev, path string) *strata.Proof {
	t.Helper()
	p, err := kv.Prove(ctx, rev, path)
	if err != nil {
		t.Fatalf("prove %q: %v", path, err)
	}
	return p
}

// TestProveVerify: a proof of each kind of value verifies to the value,
// through its JSON form too; a proof of a chunked directory's entry holds
// index objects; a proof of an absent path verifies to ErrNotFound.
func TestProveVerify(t *testing.T) {
	kv, head := proofStore(t)
	main := kv.Branch("main")
	for _, path := range []string{"a", "/dir/x", "dir/sub/y", "dir/long", "big/k00000", "big/k02500", "big/k04999"} {
		p := prove(t, kv, "main", path)
		want, err := main.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := strata.ParseProof(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, err := strata.VerifyProof(head, path, q)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: verify: %q, %v; want %q", path, got, err, want)
		}
		if strings.HasPrefix(path, "big/") {
			indexes := 0
			for _, o := range p.Objects {
				if tag, _ := codec.TagOf(o); tag == codec.TagIndex {
					indexes++
				}
			}
			if indexes == 0 {
				t.Errorf("%s: the proof holds no index object", path)
			}
		}
	}
	for _, path := range []string{"nothing", "dir/none", "a/under-a-value", "big/k99999", "dir/sub"} {
		p := prove(t, kv, head.String(), path)
		if v, err := strata.VerifyProof(head, path, p); !errors.Is(err, strata.ErrNotFound) || errors.Is(err, strata.ErrInvalidProof) {
			t.Errorf("absent %s: %q, %v; want ErrNotFound", path, v, err)
		}
	}
	if _, err := kv.Prove(ctx, "main", "/"); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("prove the root: %v, want ErrInvalidPath", err)
	}
	if _, err := kv.Prove(ctx, "nobranch", "a"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("prove at an unknown revision: %v, want ErrNotFound", err)
	}
}

// wantInvalid fails unless err wraps ErrInvalidProof.
func wantInvalid(t *testing.T, what string, v []byte, err error) {
	t.Helper()
	if !errors.Is(err, strata.ErrInvalidProof) {
		t.Fatalf("%s: %q, %v; want ErrInvalidProof", what, v, err)
	}
}

// TestProofTampered: a proof asked about another path or commit, with an
// object missing, added or changed, or with any byte of its serialized
// form changed, fails with ErrInvalidProof.
func TestProofTampered(t *testing.T) {
	kv, head := proofStore(t)
	for _, path := range []string{"dir/long", "big/k02500", "nothing"} {
		p := prove(t, kv, "main", path)
		v, err := strata.VerifyProof(head, "dir/x", p)
		wantInvalid(t, path+" asked for dir/x", v, err)
		v, err = strata.VerifyProof(strata.Hash{1}, path, p)
		wantInvalid(t, path+" asked at another commit", v, err)
		v, err = strata.VerifyProof(head, path, nil)
		wantInvalid(t, "no proof", v, err)
		for i := range p.Objects {
			q := *p
			q.Objects = append(append([][]byte{}, p.Objects[:i]...), p.Objects[i+1:]...)
			v, err := strata.VerifyProof(head, path, &q)
			wantInvalid(t, fmt.Sprintf("%s without object %d", path, i), v, err)
		}
		q := *p
		q.Objects = append(append([][]byte{}, p.Objects...), prove(t, kv, "main", "a").Objects[0][:10])
		v, err = strata.VerifyProof(head, path, &q)
		wantInvalid(t, path+" with an extra object", v, err)
		q.Objects = append(append([][]byte{}, p.Objects...), p.Objects[0])
		v, err = strata.VerifyProof(head, path, &q)
		wantInvalid(t, path+" with an object twice", v, err)

		// Every byte of every object: each flip changes the object's hash.
		for i, o := range p.Objects {
			for j := range o {
				q := *p
				q.Objects = append([][]byte{}, p.Objects...)
				q.Objects[i] = bytes.Clone(o)
				q.Objects[i][j] ^= 0x01
				v, err := strata.VerifyProof(head, path, &q)
				wantInvalid(t, fmt.Sprintf("%s, object %d byte %d flipped", path, i, j), v, err)
			}
		}
	}
	// Every byte of the serialized form of a small proof.
	for _, path := range []string{"dir/long", "nothing"} {
		data, err := json.Marshal(prove(t, kv, "main", path))
		if err != nil {
			t.Fatal(err)
		}
		for i := range data {
			for _, flip := range []byte{0x01, 0x20, 0xff} {
				d := bytes.Clone(data)
				d[i] ^= flip
				p, err := strata.ParseProof(d)
				if err == nil {
					var v []byte
					v, err = strata.VerifyProof(head, path, p)
					if err == nil {
						t.Fatalf("%s: byte %d ^ %#x: verified to %q", path, i, flip, v)
					}
				}
				wantInvalid(t, fmt.Sprintf("%s: byte %d ^ %#x", path, i, flip), nil, err)
			}
		}
	}
}

// TestParseProofStrict: the serialized form admits no unknown, misspelled
// or repeated field, no trailing data and no non-canonical hash or base64.
func TestParseProofStrict(t *testing.T) {
	h := strings.Repeat("ab", 32)
	ok := `{"commit":"` + h + `","path":"a","objects":["AQI="]}`
	if _, err := strata.ParseProof([]byte(ok + "\n")); err != nil {
		t.Fatalf("a good proof: %v", err)
	}
	for _, bad := range []string{
		``, `[]`, `null`, `{}`,
		`{"commit":"` + h + `","path":"a"}`,
		`{"commit":"` + h + `","path":"a","objects":["AQI="],"x":1}`,
		`{"Commit":"` + h + `","path":"a","objects":["AQI="]}`,
		`{"commit":"` + h + `","path":"a","path":"b","objects":["AQI="]}`,
		`{"commit":"` + strings.ToUpper(h) + `","path":"a","objects":["AQI="]}`,
		`{"commit":"` + h + `","path":"a","objects":["AQJ="]}`,
		`{"commit":"` + h + `","path":"a","objects":["AQI"]}`,
		`{"commit":"` + h + `","path":"a","objects":"AQI="}`,
		ok + `{}`,
	} {
		if _, err := strata.ParseProof([]byte(bad)); !errors.Is(err, strata.ErrInvalidProof) {
			t.Errorf("ParseProof(%s): %v, want ErrInvalidProof", bad, err)
		}
	}
}
