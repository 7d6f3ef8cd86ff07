package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/console"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// Tokens of the test servers.
const (
	writeToken = "w-token-0123456789"
	readToken  = "r-token-0123456789"
	teamToken  = "t-token-0123456789" // may write only branches team/…
)

// history is what newStore wrote: the commits by name.
type history struct {
	root, second, feature, merge strata.Hash
}

var t0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

// newStore returns an in-memory store with a history: a root commit (tag
// v1), a second commit on main, a branch feature with one commit merged
// back into main with a merge commit, a branch team/x, and a directory big
// of 12 values for paging.
func newStore(t testing.TB) (*strata.KV, history) {
	t.Helper()
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	var h history
	main := kv.Branch("main")
	h.root, err = main.Update(ctx, func(tx *strata.Tx) error {
		if err := tx.SetValue("config/app.json", strata.JSON([]byte(`{"name":"app","port":80,"db":{"host":"db1","pool":4}}`))); err != nil {
			return err
		}
		if err := tx.SetValue("README", strata.Text("strata console\nline two\nline three\nline four\n")); err != nil {
			return err
		}
		if err := tx.Set("bin/blob", []byte{0, 1, 2, 0xff, 'a', 'b'}); err != nil {
			return err
		}
		for i := range 12 {
			if err := tx.SetValue(fmt.Sprintf("big/k%02d", i), strata.Text(fmt.Sprintf("value %d\n", i))); err != nil {
				return err
			}
		}
		return tx.SetValue("big/sub/inner", strata.Text("inner\n"))
	}, strata.Message("first commit"), strata.Author("ada"), strata.Time(t0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Tag(ctx, "v1", "main"); err != nil {
		t.Fatal(err)
	}
	h.second, err = main.Update(ctx, func(tx *strata.Tx) error {
		if err := tx.SetValue("README", strata.Text("strata console\nline 2 changed\nline three\nline four\nline five\n")); err != nil {
			return err
		}
		return tx.SetValue("config/app.json", strata.JSON([]byte(`{"name":"app","port":8080,"db":{"host":"db2","pool":4},"debug":true}`)))
	}, strata.Message("second commit: port 8080\n\nand a longer body"), strata.Author("grace"), strata.Time(t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.CreateBranch(ctx, "feature", "main"); err != nil {
		t.Fatal(err)
	}
	h.feature, err = kv.Branch("feature").SetValue(ctx, "feature.txt", strata.Text("a feature\n"),
		strata.Message("add a feature"), strata.Author("linus"), strata.Time(t0.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := main.SetValue(ctx, "notes", strata.Text("meanwhile on main\n"),
		strata.Message("notes on main"), strata.Author("ada"), strata.Time(t0.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	h.merge, err = kv.Merge(ctx, "feature", "main", strata.NoFastForward())
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.CreateBranch(ctx, "team/x", "main"); err != nil {
		t.Fatal(err)
	}
	return kv, h
}

func testTokens(t testing.TB) *auth.Tokens {
	t.Helper()
	tk, err := auth.Parse(strings.NewReader(writeToken + " write\n" + readToken + " read\n" + teamToken + " write team/\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// newServer serves the console over kv on a loopback port.
func newServer(t testing.TB, kv *strata.KV, opts console.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(console.New(kv, opts))
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is an HTTP client that returns redirects instead of
// following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
