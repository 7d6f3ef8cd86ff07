package strata_test

import (
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/internal/codec"
)

// benchStores returns, for each way of reaching a store, a KV over a new
// in-memory store and the counter of the HTTP requests it sends (nil for
// mem direct): mem direct, the HTTP store on loopback, and the HTTP store
// with a Pebble cache (?cache=DIR).
func benchStores(b *testing.B) []struct {
	name string
	kv   *strata.KV
	reqs *counter
} {
	var out []struct {
		name string
		kv   *strata.KV
		reqs *counter
	}
	direct := strata.New(mem.New())
	b.Cleanup(func() { direct.Close() })
	out = append(out, struct {
		name string
		kv   *strata.KV
		reqs *counter
	}{"mem", direct, nil})
	for _, v := range []struct{ name, query string }{{"http", ""}, {"http-cache", "?cache=" + b.TempDir()}} {
		m := mem.New()
		c := &counter{h: httpstore.NewHandler(m, &httpstore.HandlerOptions{Verify: codec.Sum})}
		srv := httptest.NewServer(c)
		kv, err := strata.Open(ctx, srv.URL+v.query)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { kv.Close(); srv.Close(); m.Close() })
		out = append(out, struct {
			name string
			kv   *strata.KV
			reqs *counter
		}{v.name, kv, c})
	}
	return out
}

// BenchmarkHTTPStoreGet reads one value of a 1,000-key branch, warm (after
// one read), directly from mem, through the HTTP store, and through the
// HTTP store with a local cache; requests/op counts round trips.
func BenchmarkHTTPStoreGet(b *testing.B) {
	for _, s := range benchStores(b) {
		main := s.kv.Branch("main")
		if _, err := main.Update(ctx, func(tx *strata.Tx) error {
			for i := range 1000 {
				tx.Set(fmt.Sprintf("k/%04d", i), []byte("value"))
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			if _, err := main.Get(ctx, "k/0500"); err != nil { // warm-up
				b.Fatal(err)
			}
			var before int64
			if s.reqs != nil {
				before = s.reqs.n.Load()
			}
			for b.Loop() {
				if _, err := main.Get(ctx, "k/0500"); err != nil {
					b.Fatal(err)
				}
			}
			if s.reqs != nil {
				b.ReportMetric(float64(s.reqs.n.Load()-before)/float64(b.N), "requests/op")
			}
		})
	}
}

// benchSeq numbers the values BenchmarkHTTPStoreSet writes.
var benchSeq atomic.Int64

// BenchmarkHTTPStoreSet commits one new value per operation (set+commit),
// directly to mem, through the HTTP store, and through the HTTP store with
// a local cache; requests/op counts round trips per commit.
func BenchmarkHTTPStoreSet(b *testing.B) {
	for _, s := range benchStores(b) {
		main := s.kv.Branch("main")
		if _, err := main.Set(ctx, "seed", []byte("x")); err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			var before int64
			if s.reqs != nil {
				before = s.reqs.n.Load()
			}
			for b.Loop() {
				// A new value every time, also across -count runs: a set
				// that changes nothing makes no commit.
				i := benchSeq.Add(1)
				if _, err := main.Set(ctx, fmt.Sprintf("k/%d", i%1000), []byte(fmt.Sprint(i))); err != nil {
					b.Fatal(err)
				}
			}
			if s.reqs != nil {
				b.ReportMetric(float64(s.reqs.n.Load()-before)/float64(b.N), "requests/op")
			}
		})
	}
}

// BenchmarkHTTPStoreGetCold opens a new KV on the HTTP store and reads one
// value of a 1,000-key branch per operation: a cold read, nothing cached;
// requests/op counts its round trips (Open's included).
func BenchmarkHTTPStoreGetCold(b *testing.B) {
	m := mem.New()
	defer m.Close()
	c := &counter{h: httpstore.NewHandler(m, nil)}
	srv := httptest.NewServer(c)
	defer srv.Close()
	if _, err := strata.New(m).Branch("main").Update(ctx, func(tx *strata.Tx) error {
		for i := range 1000 {
			tx.Set(fmt.Sprintf("k/%04d", i), []byte("value"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	before := c.n.Load()
	for b.Loop() {
		kv, err := strata.Open(ctx, srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kv.Branch("main").Get(ctx, "k/0500"); err != nil {
			b.Fatal(err)
		}
		kv.Close()
	}
	b.ReportMetric(float64(c.n.Load()-before)/float64(b.N), "requests/op")
}
