package httpstore

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/stratakv/strata/backend"
)

// FuzzReadObjects feeds arbitrary request bodies to the decoder the
// handler runs on untrusted input: it never panics, and the objects of a
// body it accepts survive re-encoding and decoding unchanged.
func FuzzReadObjects(f *testing.F) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeObject(w, backend.Object{Hash: backend.Hash{1}, Data: []byte("data")})
	writeObject(w, backend.Object{Hash: backend.Hash{2}})
	w.Flush()
	f.Add(b.Bytes())
	f.Add([]byte{})
	f.Add(make([]byte, 33))
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := readObjects(bytes.NewReader(body))
		if err != nil {
			return
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		for _, o := range objs {
			writeObject(w, o)
		}
		w.Flush()
		again, err := readObjects(&out)
		if err != nil {
			t.Fatalf("the re-encoding of accepted %x does not decode: %v", body, err)
		}
		if len(again) != len(objs) {
			t.Fatalf("%d objects re-decode as %d", len(objs), len(again))
		}
		for i := range objs {
			if again[i].Hash != objs[i].Hash || !bytes.Equal(again[i].Data, objs[i].Data) {
				t.Fatalf("object %d changed by re-encoding: %+v, then %+v", i, objs[i], again[i])
			}
		}
	})
}
