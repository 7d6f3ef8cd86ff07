package server

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

// TestAPI walks every endpoint of the JSON API, on every store kind, from
// a plain net/http client, checking what each answers and that the store
// holds what the writes said.
func TestAPI(t *testing.T) {
	for name, url := range stores(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, url, Options{})
			ctx := context.Background()

			// Values: PUT, GET with ETag and Content-Type by kind.
			c1 := commitOf(t, h.want(200, "PUT", "/v1/values/config/db/host", "db1",
				"X-Strata-Message", "point at db1", "X-Strata-Author", "ann"))
			r := h.want(200, "GET", "/v1/values/config/db/host", "")
			if string(r.body) != "db1" || r.header.Get("ETag") != `"`+c1+`"` ||
				r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("X-Strata-Kind") != "raw" {
				t.Fatalf("GET: %q %v", r.body, r.header)
			}
			cm := decodeJSON[commitJSON](t, h.want(200, "GET", "/v1/commits/"+c1, ""))
			if cm.Hash != c1 || cm.Author != "ann" || cm.Message != "point at db1" || len(cm.Parents) != 0 || cm.Height != 1 {
				t.Fatalf("commit: %+v", cm)
			}
			h.want(200, "PUT", "/v1/values/doc?kind=json", `{"b": 1, "a": 2}`)
			r = h.want(200, "GET", "/v1/values/doc", "")
			if string(r.body) != `{"a":2,"b":1}` || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("GET json: %q %v", r.body, r.header)
			}
			h.want(200, "PUT", "/v1/values/readme?kind=text", "hi\n")
			r = h.want(200, "GET", "/v1/values/readme", "")
			if string(r.body) != "hi\n" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("GET text: %q %v", r.body, r.header)
			}
			h.wantError(404, codeNotFound, "GET", "/v1/values/doc?at="+c1, "")
			if r = h.want(200, "GET", "/v1/values/config/db/host?at="+c1[:8], ""); string(r.body) != "db1" {
				t.Fatalf("GET at a prefix: %q", r.body)
			}

			// List, a page at a time.
			ls := decodeJSON[listAnswer](t, h.want(200, "GET", "/v1/list/", ""))
			want := []entryJSON{{"config", true}, {"doc", false}, {"readme", false}}
			if diff := cmp.Diff(want, ls.Entries); diff != "" || ls.Next != "" {
				t.Fatalf("list: next %q %s", ls.Next, diff)
			}
			var paged []entryJSON
			for after := ""; ; {
				ls = decodeJSON[listAnswer](t, h.want(200, "GET", "/v1/list/?limit=2&after="+after, ""))
				paged = append(paged, ls.Entries...)
				if after = ls.Next; after == "" {
					break
				}
			}
			if diff := cmp.Diff(want, paged); diff != "" {
				t.Fatalf("paged list: %s", diff)
			}
			ls = decodeJSON[listAnswer](t, h.want(200, "GET", "/v1/list/config/db?at="+c1, ""))
			if diff := cmp.Diff([]entryJSON{{"host", false}}, ls.Entries); diff != "" || ls.Commit != c1 {
				t.Fatalf("list at: %s %s", ls.Commit, diff)
			}

			// Update: sets and deletes in one commit; log and diff.
			cu := commitOf(t, h.want(200, "POST", "/v1/update",
				`{"set": {"a/x": "1", "a/y": "2"}, "delete": ["readme"], "message": "batch", "author": "bob"}`))
			h.wantError(404, codeNotFound, "GET", "/v1/values/readme", "")
			lg := decodeJSON[struct{ Commits []commitJSON }](t, h.want(200, "GET", "/v1/log?n=0", ""))
			var msgs []string
			for _, c := range lg.Commits {
				msgs = append(msgs, c.Message)
			}
			if len(msgs) != 4 || msgs[0] != "batch" || msgs[3] != "point at db1" || lg.Commits[0].Hash != cu || lg.Commits[0].Author != "bob" {
				t.Fatalf("log: %q", msgs)
			}
			if lg = decodeJSON[struct{ Commits []commitJSON }](t, h.want(200, "GET", "/v1/log?n=2", "")); len(lg.Commits) != 2 {
				t.Fatalf("log n=2: %d commits", len(lg.Commits))
			}
			lg = decodeJSON[struct{ Commits []commitJSON }](t, h.want(200, "GET", "/v1/log?path=a&rev="+cu, ""))
			if len(lg.Commits) != 1 || lg.Commits[0].Hash != cu {
				t.Fatalf("log path=a: %+v", lg.Commits)
			}
			df := decodeJSON[struct{ Changes []changeJSON }](t, h.want(200, "GET", "/v1/diff?from="+c1+"&to=main&path=a", ""))
			one, two := "1", "2"
			if diff := cmp.Diff([]changeJSON{{Op: "add", Path: "a/x", New: &one}, {Op: "add", Path: "a/y", New: &two}}, df.Changes); diff != "" {
				t.Fatalf("diff: %s", diff)
			}
			// A value that is not UTF-8 comes back exactly, and in base64 in a diff.
			bin := "\xff\x00\xfe"
			h.want(200, "PUT", "/v1/values/bin", bin)
			if r = h.want(200, "GET", "/v1/values/bin", ""); string(r.body) != bin {
				t.Fatalf("binary value: %q", r.body)
			}
			df = decodeJSON[struct{ Changes []changeJSON }](t, h.want(200, "GET", "/v1/diff?from=main~1&to=main", ""))
			b64 := base64.StdEncoding.EncodeToString([]byte(bin))
			if diff := cmp.Diff([]changeJSON{{Op: "add", Path: "bin", NewBase64: &b64}}, df.Changes); diff != "" {
				t.Fatalf("diff of bytes: %s", diff)
			}

			// Delete.
			commitOf(t, h.want(200, "DELETE", "/v1/values/a/x", "", "X-Strata-Message", "rm x"))
			h.wantError(404, codeNotFound, "GET", "/v1/values/a/x", "")
			if c, err := h.kv.Commit(ctx, "main"); err != nil || c.Message != "rm x" {
				t.Fatalf("head after delete: %+v %v", c, err)
			}

			// Branches and merge.
			head := decodeJSON[refJSON](t, h.want(200, "GET", "/v1/branches/main", "")).Head
			br := decodeJSON[refJSON](t, h.want(201, "POST", "/v1/branches", `{"name": "team/feature", "from": "main"}`))
			if br != (refJSON{"team/feature", head}) {
				t.Fatalf("created %+v, want head %s", br, head)
			}
			bs := decodeJSON[struct{ Branches []refJSON }](t, h.want(200, "GET", "/v1/branches", ""))
			if diff := cmp.Diff([]refJSON{{"main", head}, {"team/feature", head}}, bs.Branches); diff != "" {
				t.Fatalf("branches: %s", diff)
			}
			h.want(200, "PUT", "/v1/values/feature/flag?branch=team/feature", "on")
			h.wantError(404, codeNotFound, "GET", "/v1/values/feature/flag", "")
			cmg := commitOf(t, h.want(200, "POST", "/v1/merge", `{"from": "team/feature", "into": "main", "message": "take the feature"}`))
			if r = h.want(200, "GET", "/v1/values/feature/flag", ""); string(r.body) != "on" || r.header.Get("ETag") != `"`+cmg+`"` {
				t.Fatalf("merged value: %q %v", r.body, r.header)
			}
			h.want(204, "DELETE", "/v1/branches/team/feature", "")
			h.wantError(404, codeNotFound, "GET", "/v1/branches/team/feature", "")

			// Tags.
			tg := decodeJSON[refJSON](t, h.want(201, "POST", "/v1/tags", `{"name": "v1", "rev": "`+c1+`"}`))
			if tg != (refJSON{"v1", c1}) {
				t.Fatalf("tag: %+v", tg)
			}
			ts := decodeJSON[struct{ Tags []refJSON }](t, h.want(200, "GET", "/v1/tags", ""))
			if diff := cmp.Diff([]refJSON{{"v1", c1}}, ts.Tags); diff != "" {
				t.Fatalf("tags: %s", diff)
			}
			if got := decodeJSON[refJSON](t, h.want(200, "GET", "/v1/tags/v1", "")); got != tg {
				t.Fatalf("tag: %+v", got)
			}
			h.wantError(404, codeNotFound, "GET", "/v1/values/a/y?at=v1", "")
			h.want(201, "POST", "/v1/tags", `{"name": "v1", "rev": "main", "force": true}`)
			h.want(200, "GET", "/v1/values/a/y?at=v1", "")
			h.want(204, "DELETE", "/v1/tags/v1", "")
			h.wantError(404, codeNotFound, "GET", "/v1/tags/v1", "")
		})
	}
}

// TestIfMatch: a write with If-Match lands only when the branch head is
// that commit, as a child of it; otherwise 412 and nothing changes; of
// concurrent writes with one ETag exactly one lands.
func TestIfMatch(t *testing.T) {
	for name, url := range stores(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, url, Options{})
			ctx := context.Background()
			c1 := commitOf(t, h.want(200, "PUT", "/v1/values/k", "v1"))
			etag := h.want(200, "GET", "/v1/values/k", "").header.Get("ETag")
			c2 := commitOf(t, h.want(200, "PUT", "/v1/values/k", "v2", "If-Match", etag, "X-Strata-Message", "cas"))
			c, err := h.kv.Commit(ctx, "main")
			if err != nil || c.Hash.String() != c2 || len(c.Parents) != 1 || c.Parents[0].String() != c1 || c.Message != "cas" {
				t.Fatalf("head %+v %v, want %s child of %s", c, err, c2, c1)
			}
			// The same ETag again is stale now: 412 for every write.
			h.wantError(412, codeConflict, "PUT", "/v1/values/k", "v3", "If-Match", etag)
			h.wantError(412, codeConflict, "DELETE", "/v1/values/k", "", "If-Match", etag)
			h.wantError(412, codeConflict, "POST", "/v1/update", `{"set": {"k": "v4"}}`, "If-Match", etag)
			if r := h.want(200, "GET", "/v1/values/k", ""); string(r.body) != "v2" {
				t.Fatalf("value after refused writes: %q", r.body)
			}
			commitOf(t, h.want(200, "POST", "/v1/update", `{"delete": ["k"], "set": {"j": "x"}}`, "If-Match", `"`+c2+`"`))
			h.wantError(404, codeNotFound, "GET", "/v1/values/k", "")
			// A branch that does not exist yet: If-Match of the zero hash.
			zero := `"` + strings.Repeat("0", 64) + `"`
			commitOf(t, h.want(200, "PUT", "/v1/values/n?branch=fresh", "1", "If-Match", zero))
			h.wantError(412, codeConflict, "PUT", "/v1/values/n?branch=fresh", "2", "If-Match", zero)
			// Concurrent writes with one ETag: exactly one lands.
			etag = h.want(200, "GET", "/v1/values/j", "").header.Get("ETag")
			codes := make(chan int, 8)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("PUT", h.url+"/v1/values/race", strings.NewReader(strconv.Itoa(i)))
					req.Header.Set("If-Match", etag)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					codes <- resp.StatusCode
				}()
			}
			wg.Wait()
			close(codes)
			won := 0
			for c := range codes {
				switch c {
				case 200:
					won++
				case 412:
				default:
					t.Errorf("concurrent If-Match: status %d", c)
				}
			}
			if won != 1 {
				t.Fatalf("%d concurrent writes with one ETag landed, want 1", won)
			}
			bs, err := h.kv.Branches(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range bs {
				names = append(names, b.Name)
			}
			if diff := cmp.Diff([]string{"fresh", "main"}, names); diff != "" {
				t.Fatalf("branches left: %s", diff)
			}
		})
	}
}

// secretFailure is a backend whose ref reads fail with an error that
// names a secret: a 500 must not show it.
type secretFailure struct{ backend.Store }

var errSecret = errors.New("/var/secret/disk on fire")

func (*secretFailure) GetRef(context.Context, string) (backend.Hash, error) {
	return backend.Hash{}, errSecret
}

func (*secretFailure) ListRefs(context.Context, string) ([]backend.Ref, error) {
	return nil, errSecret
}

func memStore() backend.Store { return mem.New() }

// TestErrors: every error status of the API, with its code, from the one
// mapping in writeError.
func TestErrors(t *testing.T) {
	h := newHarness(t, "mem://", Options{MaxBody: 1024})
	h.want(200, "PUT", "/v1/values/k", "base")
	h.want(201, "POST", "/v1/branches", `{"name": "f"}`)
	h.want(200, "PUT", "/v1/values/k?branch=f", "theirs")
	h.want(200, "PUT", "/v1/values/k", "ours")
	for _, c := range []struct {
		status       int
		code         string
		method, path string
		body         string
		headers      []string
	}{
		{400, codeInvalid, "GET", "/v1/values/a%00b", "", nil},
		{400, codeInvalid, "GET", "/v1/values/k?at=main~x", "", nil},
		{400, codeInvalid, "GET", "/v1/list/?limit=-1", "", nil},
		{400, codeInvalid, "GET", "/v1/log?n=many", "", nil},
		{400, codeInvalid, "GET", "/v1/diff?from=main", "", nil},
		{400, codeInvalid, "PUT", "/v1/values/k?branch=-bad", "v", nil},
		{400, codeInvalid, "PUT", "/v1/values/k?kind=weird", "v", nil},
		{400, codeInvalid, "PUT", "/v1/values/j?kind=json", "{", nil},
		{400, codeInvalid, "PUT", "/v1/values/k", "v", []string{"If-Match", "yesterday"}},
		{400, codeInvalid, "PUT", "/v1/values/k/below", "v", nil},
		{400, codeInvalid, "POST", "/v1/update", "not json", nil},
		{400, codeInvalid, "POST", "/v1/update", `{"sets": {}}`, nil},
		{400, codeInvalid, "POST", "/v1/update", `{}`, nil},
		{400, codeInvalid, "POST", "/v1/merge", `{"into": "main"}`, nil},
		{400, codeInvalid, "POST", "/v1/branches", `{"name": "a..b"}`, nil},
		{404, codeNotFound, "GET", "/v1/values/nothing", "", nil},
		{404, codeNotFound, "GET", "/v1/values/k?at=nosuch", "", nil},
		{404, codeNotFound, "GET", "/v1/list/nothing", "", nil},
		{404, codeNotFound, "GET", "/v1/log?rev=nosuch", "", nil},
		{404, codeNotFound, "GET", "/v1/diff?from=main&to=nosuch", "", nil},
		{404, codeNotFound, "GET", "/v1/commits/" + strings.Repeat("0", 64), "", nil},
		{404, codeNotFound, "DELETE", "/v1/values/nothing", "", nil},
		{404, codeNotFound, "GET", "/v1/branches/nosuch", "", nil},
		{404, codeNotFound, "DELETE", "/v1/branches/nosuch", "", nil},
		{404, codeNotFound, "GET", "/v1/tags/nosuch", "", nil},
		{404, codeNotFound, "DELETE", "/v1/tags/nosuch", "", nil},
		{404, codeNotFound, "POST", "/v1/merge", `{"from": "nosuch"}`, nil},
		{409, codeConflict, "POST", "/v1/branches", `{"name": "f"}`, nil},
		{412, codeConflict, "PUT", "/v1/values/k", "v", []string{"If-Match", `"` + strings.Repeat("ab", 32) + `"`}},
		{413, codeInvalid, "PUT", "/v1/values/big", strings.Repeat("x", 2048), nil},
		{413, codeInvalid, "POST", "/v1/update", `{"set": {"big": "` + strings.Repeat("x", 2048) + `"}}`, nil},
		{413, codeInvalid, "POST", "/v1/merge", `{"from": "` + strings.Repeat("x", 2048) + `"}`, nil},
		{413, codeInvalid, "POST", "/v1/tags", `{"name": "` + strings.Repeat("x", 2048) + `"}`, nil},
	} {
		h.wantError(c.status, c.code, c.method, c.path, c.body, c.headers...)
	}
	h.want(201, "POST", "/v1/tags", `{"name": "t"}`)
	h.wantError(409, codeConflict, "POST", "/v1/tags", `{"name": "t", "rev": "f"}`)

	// A merge conflict is 409 and lists the conflicts; nothing is written.
	e := h.wantError(409, codeConflict, "POST", "/v1/merge", `{"from": "f", "into": "main"}`)
	base, ours, theirs := "base", "ours", "theirs"
	want := []conflictJSON{{Path: "k", Reason: "content", Base: &base, Ours: &ours, Theirs: &theirs}}
	for i := range e.Conflicts {
		e.Conflicts[i].Detail = ""
	}
	if diff := cmp.Diff(want, e.Conflicts); diff != "" {
		t.Fatalf("conflicts: %s", diff)
	}
	if r := h.want(200, "GET", "/v1/values/k", ""); string(r.body) != "ours" {
		t.Fatalf("after a conflicted merge: %q", r.body)
	}
}

// TestInternalError: an error the mapping does not know is 500 "internal"
// with a bare message; its cause goes to the log only.
func TestInternalError(t *testing.T) {
	kv := strata.New(&secretFailure{Store: memStore()})
	h := newHarnessKV(t, kv, Options{})
	e := h.wantError(500, codeInternal, "GET", "/v1/values/k", "")
	if e.Error != "internal error" || strings.Contains(e.Error, "secret") {
		t.Fatalf("500 body: %+v", e)
	}
	if !strings.Contains(h.logs.String(), "/var/secret/disk on fire") {
		t.Fatalf("the cause is not in the log: %s", h.logs.String())
	}
	h.wantError(500, codeInternal, "GET", "/healthz", "")
}

// TestClosedStore: a request after the store closed is 503.
func TestClosedStore(t *testing.T) {
	h := newHarness(t, "mem://", Options{})
	if err := h.kv.Close(); err != nil {
		t.Fatal(err)
	}
	h.wantError(http.StatusServiceUnavailable, codeInternal, "GET", "/healthz", "")
	h.wantError(http.StatusServiceUnavailable, codeInternal, "PUT", "/v1/values/k", "v")
}

// TestPanic: a handler that panics answers 500 "internal error", logs the
// panic, and leaves the server serving.
func TestPanic(t *testing.T) {
	h := newHarness(t, "mem://", Options{})
	h.srv.handle("GET /v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	if e := h.wantError(500, codeInternal, "GET", "/v1/boom", ""); e.Error != "internal error" {
		t.Fatalf("body %+v", e)
	}
	if !strings.Contains(h.logs.String(), "panic serving request") {
		t.Fatalf("log: %s", h.logs.String())
	}
	h.want(200, "GET", "/healthz", "")
}
