package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/cmd/strata/server"
)

// poisonStore fails every read of an object that holds "poison" with an
// error that names a secret, as a damaged disk might.
type poisonStore struct{ *mem.Store }

func (s poisonStore) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	b, err := s.Store.Get(ctx, h)
	if err == nil && bytes.Contains(b, []byte("poison")) {
		return nil, errors.New("/var/secret/disk on fire")
	}
	return b, err
}

// lineChan is a log writer that hands each line to a channel.
type lineChan struct {
	ch chan []byte
}

func (b lineChan) Write(p []byte) (int, error) {
	select {
	case b.ch <- bytes.Clone(p):
	default: // the test has read what it wanted
	}
	return len(p), nil
}

// TestWatchErrorHidden: a watch stream that fails mid-stream on an
// internal error ends with an "error" event that says only "internal
// error"; the cause goes to the log, as with every other 500.
func TestWatchErrorHidden(t *testing.T) {
	m := mem.New()
	kv := strata.New(poisonStore{m})
	logs := lineChan{make(chan []byte, 100)}
	s := server.New(kv, server.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ts := httptest.NewServer(s.Handler())
	defer func() { s.Drain(); ts.Close(); kv.Close() }()
	if _, err := kv.Branch("main").Set(context.Background(), "a", []byte("0")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := watch(t, ctx, ts, nil, nil)
	defer st.cancel()
	// A value large enough to live in its own contents object, which the
	// stream reads to send the change.
	big := strings.Repeat("poison ", 1000)
	if _, err := kv.Branch("main").Set(context.Background(), "a", []byte(big)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for ev := range st.Events {
		if ev.Ping {
			continue
		}
		got = append(got, fmt.Sprintf("%s %s", ev.Event, ev.Data))
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "error ") || strings.Contains(got[0], "secret") || !strings.Contains(got[0], "internal error") {
		t.Fatalf("events %q, want one error event without the cause", got)
	}
	for {
		select {
		case l := <-logs.ch:
			if bytes.Contains(l, []byte("disk on fire")) {
				return
			}
		case <-ctx.Done():
			t.Fatal("the cause never reached the log")
		}
	}
}
