// Package sse writes Server-Sent Events (text/event-stream), for strata
// serve's watch stream and the web console's live-update stream.
package sse

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Start answers 200 with the headers of an event stream: its content
// type, Cache-Control: no-store, and no buffering in a reverse proxy.
// no-store, not no-cache: with no-cache, a page of the console's browser
// test waited a minute to load after a few pages with streams, as if
// Chromium kept those pages (back/forward cache) with their streams open
// and had used up its six connections to the server; with no-store it
// loads at once.
func Start(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
}

// Event writes one event and flushes it: an "id:" line unless id is
// empty, an "event:" line, and v encoded as JSON on one "data:" line (JSON
// escapes newlines). id and event must not hold a newline. It returns the
// error of the write or the flush: the client went away.
func Event(w http.ResponseWriter, id, event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("event: " + event + "\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return write(w, b.String())
}

// Comment writes a comment line (": text"), such as a heartbeat, and
// flushes it. text must not hold a newline.
func Comment(w http.ResponseWriter, text string) error {
	return write(w, ": "+text+"\n\n")
}

func write(w http.ResponseWriter, s string) error {
	if _, err := w.Write([]byte(s)); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}
