package sse

import (
	"net/http/httptest"
	"testing"
)

func TestStream(t *testing.T) {
	w := httptest.NewRecorder()
	Start(w)
	if err := Comment(w, "ping"); err != nil {
		t.Fatal(err)
	}
	if err := Event(w, "abc", "move", map[string]string{"k": "a\nb"}); err != nil {
		t.Fatal(err)
	}
	if err := Event(w, "", "error", map[string]string{"error": "x"}); err != nil {
		t.Fatal(err)
	}
	want := ": ping\n\nid: abc\nevent: move\ndata: {\"k\":\"a\\nb\"}\n\nevent: error\ndata: {\"error\":\"x\"}\n\n"
	if got := w.Body.String(); got != want {
		t.Errorf("stream %q, want %q", got, want)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" || !w.Flushed {
		t.Errorf("Content-Type %q, flushed %v", ct, w.Flushed)
	}
	// no-store, not no-cache: see Start.
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}
