package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/internal/sse"
)

// watchRoutes registers this file's routes.
func (s *Server) watchRoutes() {
	s.handleStream("GET /v1/watch", http.HandlerFunc(s.watch))
}

// watchEvent is the data of one "move" event of the watch stream.
type watchEvent struct {
	Branch  string       `json:"branch"`
	Old     string       `json:"old"` // "" when the branch was created
	New     string       `json:"new"` // "" when the branch was deleted
	Changes []changeJSON `json:"changes"`
}

// watch serves GET /v1/watch?branch=B&prefix=P&since=REV: Server-Sent
// Events (text/event-stream), one per head move of branch B (default
// main), in order, until the client goes away or the server drains:
//
//	id: <new head: 64 hex digits; 64 zeros when the branch was deleted>
//	event: move
//	data: {"branch":B,"old":HASH or "","new":HASH or "","changes":[…]}
//
// changes holds the values that differ under prefix P (all without P),
// sorted by path, each {"op":"add|modify|remove","path":…} with the old
// and new values as "old"/"new" strings when they are valid UTF-8, else
// as "oldBase64"/"newBase64" (standard padded base64); absent for an
// added value's old and a removed value's new. Every head move is sent,
// with empty changes if nothing changed under P; a client that reads so
// slowly that the store drops notifications gets the moves it missed as
// one event from the last head sent to the current one (strata.Watch). With since (a commit or
// any revision) or, without it, a Last-Event-ID header (a commit hash),
// the stream first sends the moves missed after that commit, then live
// ones, none twice (strata.WatchSince defines the missed moves); a since
// or Last-Event-ID of 64 zeros (the id of a delete) sends the branch's
// creation from zero to its head if it exists again, then live moves
// (strata.WatchSinceAbsent), so a delete is never sent twice. A
// comment line ": ping" is sent every Options.WatchHeartbeat. If watching
// fails mid-stream, one event "error" with data {"error":…} ends the
// stream (a server error says only "internal error"; its cause is
// logged). Before the stream starts, errors are JSON errors: 400 for a
// bad branch, prefix or since, 404 for an unknown since commit. It needs
// read access to B.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	name := query(r, "branch", defaultBranch)
	if !s.authorize(w, r, false, name) {
		return
	}
	if _, ok := w.(http.Flusher); !ok {
		s.writeError(w, r, fmt.Errorf("watch: the connection cannot stream"))
		return
	}
	ctx := r.Context() // also done on Drain (handleStream)
	opts := []strata.WatchOption{strata.WatchPrefix(r.URL.Query().Get("prefix"))}
	since := r.URL.Query().Get("since")
	if since == "" {
		since = strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	}
	switch {
	case since == deletedID:
		opts = append(opts, strata.WatchSinceAbsent())
	case since != "":
		h, err := s.kv.Resolve(ctx, since)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("watch since %q: %w", since, err))
			return
		}
		opts = append(opts, strata.WatchSince(h))
	}
	events, err := s.kv.Watch(ctx, name, opts...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sse.Start(w)
	if sse.Comment(w, "watching "+name) != nil {
		return
	}
	heartbeat := time.NewTicker(s.opts.WatchHeartbeat)
	defer heartbeat.Stop()
	for {
		var err error
		select {
		case ev, ok := <-events:
			switch {
			case !ok:
				return
			case ev.Err != nil:
				_ = sse.Event(w, "", "error", map[string]string{"error": s.publicError(r, ev.Err)})
				return
			}
			err = writeMove(w, ev)
		case <-heartbeat.C:
			err = sse.Comment(w, "ping")
		case <-ctx.Done():
			return
		}
		if err != nil {
			return // the client went away
		}
	}
}

// writeMove writes one "move" event.
func writeMove(w http.ResponseWriter, ev strata.Event) error {
	e := watchEvent{Branch: ev.Branch, Changes: make([]changeJSON, len(ev.Changes))}
	if !ev.Old.IsZero() {
		e.Old = ev.Old.String()
	}
	if !ev.New.IsZero() {
		e.New = ev.New.String()
	}
	for i, c := range ev.Changes {
		e.Changes[i] = newChangeJSON(c)
	}
	id := e.New
	if ev.New.IsZero() {
		id = deletedID
	}
	return sse.Event(w, id, "move", e)
}

// deletedID is the event id of a branch's deletion: the zero hash, which
// no commit has.
var deletedID = strata.Hash{}.String()
