package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// startServer serves a fresh mem:// store on a loopback port.
func startServer(t *testing.T, opts server.Options) (*strata.KV, *server.Server, *httptest.Server) {
	t.Helper()
	kv, err := strata.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(kv, opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Drain()
		ts.Close()
		kv.Close()
	})
	return kv, s, ts
}

// sseEvent is one event of a stream, or a heartbeat (Ping).
type sseEvent struct {
	ID, Event, Data string
	Ping            bool
}

// moveData is the data of a "move" event.
type moveData struct {
	Branch  string `json:"branch"`
	Old     string `json:"old"`
	New     string `json:"new"`
	Changes []struct {
		Op        string  `json:"op"`
		Path      string  `json:"path"`
		Old       *string `json:"old"`
		New       *string `json:"new"`
		OldBase64 *string `json:"oldBase64"`
		NewBase64 *string `json:"newBase64"`
	} `json:"changes"`
}

// stream is an open watch stream; its events arrive on Events, which is
// closed when the stream ends.
type stream struct {
	Events <-chan sseEvent
	cancel context.CancelFunc
}

// watch opens GET /v1/watch with the query q and the headers hdr, and
// returns once the server has subscribed (its first comment arrived).
func watch(t testing.TB, ctx context.Context, ts *httptest.Server, q url.Values, hdr http.Header) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/watch?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("watch %s: %s %s", q.Encode(), resp.Status, b)
	}
	rd := bufio.NewReader(resp.Body)
	if l, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(l, ": watching") {
		t.Fatalf("first line %q, %v", l, err)
	}
	ch := make(chan sseEvent, 1000)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		var ev sseEvent
		for {
			l, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimSuffix(l, "\n")
			switch {
			case l == "":
				if ev != (sseEvent{}) {
					ch <- ev
				}
				ev = sseEvent{}
			case l == ": ping":
				ev.Ping = true
			case strings.HasPrefix(l, ":"):
			case strings.HasPrefix(l, "id: "):
				ev.ID = l[4:]
			case strings.HasPrefix(l, "event: "):
				ev.Event = l[7:]
			case strings.HasPrefix(l, "data: "):
				ev.Data = l[6:]
			default:
				ch <- sseEvent{Event: "bad line", Data: l}
			}
		}
	}()
	return &stream{Events: ch, cancel: cancel}
}

// next returns the next move of s, skipping heartbeats.
func (s *stream) next(t testing.TB, ctx context.Context) (sseEvent, moveData) {
	t.Helper()
	for {
		select {
		case ev, ok := <-s.Events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Ping {
				continue
			}
			if ev.Event != "move" {
				t.Fatalf("event %+v", ev)
			}
			var m moveData
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatalf("data %q: %v", ev.Data, err)
			}
			if ev.ID != m.New && (m.New != "" || ev.ID != strata.Hash{}.String()) {
				t.Fatalf("id %s, new %s", ev.ID, m.New)
			}
			return ev, m
		case <-ctx.Done():
			t.Fatal("no event came")
		}
	}
}

// commits sets n keys on main and returns the heads.
func commits(t *testing.T, kv *strata.KV, from, n int) []strata.Hash {
	t.Helper()
	var hs []strata.Hash
	for i := from; i < from+n; i++ {
		h, err := kv.Branch("main").Set(context.Background(), fmt.Sprintf("k/%03d", i), []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	return hs
}

// TestWatchResume: a watcher that disconnects and reconnects with since,
// or with Last-Event-ID, receives every head move it missed exactly once
// and in order, then the live ones.
func TestWatchResume(t *testing.T) {
	for _, how := range []string{"since", "Last-Event-ID"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			kv, _, ts := startServer(t, server.Options{})
			heads := commits(t, kv, 0, 1)
			st := watch(t, ctx, ts, url.Values{"branch": {"main"}}, nil)
			heads = append(heads, commits(t, kv, 1, 3)...)
			var last string
			for i := 1; i < 4; i++ {
				ev, m := st.next(t, ctx)
				if m.Old != heads[i-1].String() || m.New != heads[i].String() || len(m.Changes) != 1 || m.Changes[0].Path != fmt.Sprintf("k/%03d", i) {
					t.Fatalf("event %d: %+v", i, m)
				}
				last = ev.ID
			}
			st.cancel()
			heads = append(heads, commits(t, kv, 4, 5)...) // missed while away
			q, hdr := url.Values{}, http.Header{}
			if how == "since" {
				q.Set("since", last)
			} else {
				hdr.Set("Last-Event-ID", last)
			}
			st = watch(t, ctx, ts, q, hdr)
			defer st.cancel()
			heads = append(heads, commits(t, kv, 9, 2)...) // live
			for i := 4; i < 11; i++ {
				_, m := st.next(t, ctx)
				if m.Old != heads[i-1].String() || m.New != heads[i].String() {
					t.Fatalf("after reconnecting, event for commit %d: %s -> %s, want %s -> %s", i, m.Old, m.New, heads[i-1], heads[i])
				}
			}
			// Nothing else: the next event is the next commit.
			heads = append(heads, commits(t, kv, 11, 1)...)
			if _, m := st.next(t, ctx); m.New != heads[11].String() {
				t.Fatalf("after the catch-up and live moves: %s -> %s, want -> %s", m.Old, m.New, heads[11])
			}
		})
	}
}

// TestWatchPrefixAndValues: with a prefix, every move is sent with only
// the changes under it; text values are strings, others base64.
func TestWatchPrefixAndValues(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, _, ts := startServer(t, server.Options{})
	st := watch(t, ctx, ts, url.Values{"prefix": {"a"}}, nil)
	defer st.cancel()
	main := kv.Branch("main")
	bin := []byte{0xff, 0x00, 0xfe}
	if _, err := main.Set(ctx, "a/bin", bin); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Set(ctx, "b", []byte("outside")); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Set(ctx, "a/bin", []byte("text")); err != nil {
		t.Fatal(err)
	}
	_, m := st.next(t, ctx)
	b64 := base64.StdEncoding.EncodeToString(bin)
	if len(m.Changes) != 1 || m.Changes[0].Op != "add" || m.Changes[0].Path != "a/bin" || m.Changes[0].NewBase64 == nil || *m.Changes[0].NewBase64 != b64 || m.Changes[0].New != nil || m.Old != "" || m.Branch != "main" {
		t.Fatalf("first move: %+v", m)
	}
	if _, m = st.next(t, ctx); len(m.Changes) != 0 {
		t.Fatalf("a move outside the prefix: %+v", m)
	}
	_, m = st.next(t, ctx)
	if len(m.Changes) != 1 || m.Changes[0].Op != "modify" || m.Changes[0].New == nil || *m.Changes[0].New != "text" || *m.Changes[0].OldBase64 != b64 {
		t.Fatalf("third move: %+v", m)
	}
}

// TestWatchHeartbeatAndDrain: an idle stream gets heartbeats; Drain ends
// it.
func TestWatchHeartbeatAndDrain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, s, ts := startServer(t, server.Options{WatchHeartbeat: 5 * time.Millisecond})
	st := watch(t, ctx, ts, nil, nil)
	defer st.cancel()
	for pings := 0; pings < 3; {
		select {
		case ev := <-st.Events:
			if !ev.Ping {
				t.Fatalf("event %+v, want a heartbeat", ev)
			}
			pings++
		case <-ctx.Done():
			t.Fatal("no heartbeat")
		}
	}
	s.Drain()
	for {
		select {
		case ev, ok := <-st.Events:
			if !ok {
				return // the stream ended
			}
			if !ev.Ping {
				t.Fatalf("event %+v", ev)
			}
		case <-ctx.Done():
			t.Fatal("the stream did not end after Drain")
		}
	}
}

// TestWatchErrors: bad parameters are JSON errors before the stream
// starts; a server with tokens wants one.
func TestWatchErrors(t *testing.T) {
	kv, _, ts := startServer(t, server.Options{})
	commits(t, kv, 0, 1)
	for _, c := range []struct {
		query string
		hdr   string
		code  int
	}{
		{"branch=bad..name", "", 400},
		{"prefix=a//b", "", 400},
		{"since=" + strings.Repeat("2", 64), "", 404}, // 64 zeros is a delete's id
		{"since=main~x", "", 400},
		{"", strings.Repeat("1", 64), 404},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/v1/watch?"+c.query, nil)
		if c.hdr != "" {
			req.Header.Set("Last-Event-ID", c.hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error, Code string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.code || err != nil || body.Error == "" {
			t.Errorf("%s %s: %d %+v %v, want %d", c.query, c.hdr, resp.StatusCode, body, err, c.code)
		}
	}
	toks, err := auth.Parse(strings.NewReader("secret-read read\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, ts = startServer(t, server.Options{Tokens: toks})
	resp, err := http.Get(ts.URL + "/v1/watch")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %s, want 401", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := watch(t, ctx, ts, nil, http.Header{"Authorization": {"Bearer secret-read"}})
	st.cancel()
}

// TestWatchResumeAfterDelete: a delete's event has an id (64 zeros);
// resuming from it does not send the delete again, but sends the branch's
// re-creation while the client was away, then live moves.
func TestWatchResumeAfterDelete(t *testing.T) {
	for _, how := range []string{"since", "Last-Event-ID"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			kv, _, ts := startServer(t, server.Options{})
			heads := commits(t, kv, 0, 1)
			if err := kv.CreateBranch(ctx, "dev", "main"); err != nil {
				t.Fatal(err)
			}
			st := watch(t, ctx, ts, url.Values{"branch": {"dev"}}, nil)
			moved, err := kv.Branch("dev").Set(ctx, "d", []byte("1"))
			if err != nil {
				t.Fatal(err)
			}
			if err := kv.DeleteBranch(ctx, "dev"); err != nil {
				t.Fatal(err)
			}
			// The id to resume from is the last one sent, as an
			// EventSource keeps it: an event without an id line
			// leaves it as it was.
			var last string
			for _, want := range []string{moved.String(), ""} {
				ev, m := st.next(t, ctx)
				if m.New != want {
					t.Fatalf("event %+v, want new %q", m, want)
				}
				if ev.ID != "" {
					last = ev.ID
				}
			}
			st.cancel()
			resume := func() *stream {
				q, hdr := url.Values{"branch": {"dev"}}, http.Header{}
				if how == "since" {
					q.Set("since", last)
				} else {
					hdr.Set("Last-Event-ID", last)
				}
				return watch(t, ctx, ts, q, hdr)
			}
			// Still deleted: nothing to catch up; the next event is live.
			st = resume()
			if err := kv.CreateBranch(ctx, "dev", "main"); err != nil {
				t.Fatal(err)
			}
			if _, m := st.next(t, ctx); m.Old != "" || m.New != heads[0].String() {
				t.Fatalf("first event after resuming from the delete: %s -> %s, want the re-creation -> %s", m.Old, m.New, heads[0])
			}
			st.cancel()
			// Re-created while away: that is the first event.
			st = resume()
			defer st.cancel()
			if _, m := st.next(t, ctx); m.Old != "" || m.New != heads[0].String() || len(m.Changes) != 1 {
				t.Fatalf("first event after resuming from the delete: %+v, want the re-creation -> %s", m, heads[0])
			}
		})
	}
}
