package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/cmd/strata/server"
	"github.com/stratakv/strata/cmd/strata/server/auth"
	"github.com/stratakv/strata/internal/codec"
)

// startServer serves a new in-memory store with opts on a loopback port.
// serverURL starts a server over a new mem store (startServer) and
// returns its URL.
func serverURL(t *testing.T, opts server.Options) string {
	t.Helper()
	_, _, ts := startServer(t, opts)
	return ts.URL
}

func tokens(t *testing.T, text string) *auth.Tokens {
	t.Helper()
	tk, err := auth.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// object returns a well-formed object: its key is the hash of its data.
func object(data string) backend.Object {
	return backend.Object{Hash: codec.Sum([]byte(data)), Data: []byte(data)}
}

// TestStoreAuth checks the HTTP store's authorization through the real
// client: 401 without a valid token, 403 for a write the token does not
// allow, branch prefixes enforced, tokens never in an error.
func TestStoreAuth(t *testing.T) {
	url := serverURL(t, server.Options{Tokens: tokens(t, "r0 read\nw0 write\nd0 write dev/\n")})
	ctx := t.Context()
	t.Setenv(httpstore.TokenEnv, "")
	for _, tok := range []string{"", "wr0ng-s3cret"} {
		_, err := httpstore.Open(ctx, url+"?token="+tok, nil)
		if !errors.Is(err, httpstore.ErrUnauthorized) {
			t.Errorf("Open with token %q: %v; want ErrUnauthorized", tok, err)
		}
		if err != nil && tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	open := func(tok string) *httpstore.Store {
		s, err := httpstore.Open(ctx, url+"?token="+tok, nil)
		if err != nil {
			t.Fatalf("Open with token %s: %v", tok, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	r, w, d := open("r0"), open("w0"), open("d0")
	a, b := object("a"), object("b")
	z := backend.ZeroHash

	if err := r.Put(ctx, []backend.Object{a}); !errors.Is(err, httpstore.ErrForbidden) {
		t.Errorf("Put with a read token: %v; want ErrForbidden", err)
	}
	if err := d.PutAndSwapRef(ctx, []backend.Object{a}, "heads/main", z, a.Hash); !errors.Is(err, httpstore.ErrForbidden) {
		t.Errorf("commit to main with a dev/ token: %v; want ErrForbidden", err)
	}
	if err := d.PutAndSwapRef(ctx, []backend.Object{a}, "heads/dev/x", z, a.Hash); err != nil {
		t.Errorf("commit to dev/x with a dev/ token: %v", err)
	}
	if err := d.CompareAndSwapRef(ctx, "tags/v1", z, a.Hash); !errors.Is(err, httpstore.ErrForbidden) {
		t.Errorf("tag with a dev/ token: %v; want ErrForbidden", err)
	}
	if err := d.DeleteObjects(ctx, []backend.Hash{a.Hash}); !errors.Is(err, httpstore.ErrForbidden) {
		t.Errorf("DeleteObjects with a dev/ token: %v; want ErrForbidden", err)
	}
	// A name parameter on a request that moves no ref changes nothing.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/store/delete?name=heads/dev/x", bytes.NewReader(a.Hash[:]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer d0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("delete?name=heads/dev/x with a dev/ token: HTTP %d; want 403", resp.StatusCode)
	}
	if err := w.PutAndSwapRef(ctx, []backend.Object{b}, "heads/main", z, b.Hash); err != nil {
		t.Errorf("commit to main with a write token: %v", err)
	}
	if h, err := r.GetRef(ctx, "heads/main"); err != nil || h != b.Hash {
		t.Errorf("GetRef with a read token = %s, %v; want %s", h.Short(), err, b.Hash.Short())
	}
	bad := backend.Object{Hash: a.Hash, Data: []byte("not a")}
	if err := w.Put(ctx, []backend.Object{bad}); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("Put of an object that does not hash to its key: %v; want ErrCorrupt", err)
	}
}

// TestStoreReadOnly: a read-only server refuses writes with ErrReadOnly.
func TestStoreReadOnly(t *testing.T) {
	url := serverURL(t, server.Options{ReadOnly: true})
	s, err := httpstore.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := object("a")
	if err := s.PutAndSwapRef(t.Context(), []backend.Object{a}, "heads/main", backend.ZeroHash, a.Hash); !errors.Is(err, backend.ErrReadOnly) {
		t.Errorf("commit to a read-only server: %v; want ErrReadOnly", err)
	}
	if _, err := s.ListRefs(t.Context(), ""); err != nil {
		t.Errorf("ListRefs on a read-only server: %v", err)
	}
}

// TestStoreRefNames: a ref write through the HTTP store whose name breaks
// its namespace's rules is refused with 400 "invalid", even within the
// token's branch prefix, so no client can make a branch that others then
// cannot name; good names of every namespace pass, and a write grant
// without a prefix may still delete a ref with a bad name (repair).
func TestStoreRefNames(t *testing.T) {
	kv, _, ts := startServer(t, server.Options{Tokens: tokens(t, "w0 write\nt0 write team/\n")})
	ctx := t.Context()
	a := object("a")
	if err := kv.Backend().Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}
	post := func(tok, path, name string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+path+"?"+url.Values{"name": {name}, "old": {""}, "new": {a.Hash.String()}}.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Code string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Code
	}
	for _, name := range []string{
		"heads/team/../../main", "heads/team/\nevil", "heads/team/", "heads/team//x",
	} {
		if st, code := post("t0", "/v1/store/cas", name); st != http.StatusBadRequest || code != "invalid" {
			t.Errorf("cas of %q with a team/ token: HTTP %d %q; want 400 invalid", name, st, code)
		}
	}
	for _, name := range []string{
		"heads/-x", "tags/v1..2", "tags/", "remotes/origin", "remotes/origin/a b",
		"remote-urls/a/b", "shallow/abc", "graph/" + strings.Repeat("z", 64), "other/..", "",
	} {
		if st, code := post("w0", "/v1/store/cas", name); st != http.StatusBadRequest || code != "invalid" {
			t.Errorf("cas of %q with a write token: HTTP %d %q; want 400 invalid", name, st, code)
		}
	}
	for _, name := range []string{
		"heads/main", "tags/v1.0", "remotes/origin/feature/x", "remote-urls/origin",
		"shallow/" + a.Hash.String(), "graph/" + a.Hash.String(),
	} {
		if st, _ := post("w0", "/v1/store/cas", name); st != http.StatusNoContent {
			t.Errorf("cas of %q with a write token: HTTP %d; want 204", name, st)
		}
	}
	if st, _ := post("t0", "/v1/store/cas", "heads/team/x"); st != http.StatusNoContent {
		t.Errorf("cas of heads/team/x with a team/ token: HTTP %d; want 204", st)
	}
	// Through the client, the refusal is ErrInvalid.
	c, err := httpstore.Open(ctx, ts.URL+"?token=t0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CompareAndSwapRef(ctx, "heads/team/../x", backend.ZeroHash, a.Hash); !errors.Is(err, httpstore.ErrInvalid) {
		t.Errorf("CompareAndSwapRef of heads/team/../x: %v; want ErrInvalid", err)
	}
	// A ref with a bad name that got in some other way can be removed,
	// by a write grant without a prefix only.
	bad := "heads/team/../../main"
	if err := kv.Backend().CompareAndSwapRef(ctx, bad, backend.ZeroHash, a.Hash); err != nil {
		t.Fatal(err)
	}
	if st, code := post("t0", "/v1/store/deleteref", bad); st != http.StatusForbidden {
		t.Errorf("deleteref of %q with a team/ token: HTTP %d %q; want 403", bad, st, code)
	}
	if st, code := post("w0", "/v1/store/deleteref", bad); st != http.StatusNoContent {
		t.Errorf("deleteref of %q with a write token: HTTP %d %q; want 204", bad, st, code)
	}
	if _, err := kv.Backend().GetRef(ctx, bad); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetRef(%q) after deleteref: %v; want ErrNotFound", bad, err)
	}
}
