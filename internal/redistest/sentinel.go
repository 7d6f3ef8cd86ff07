package redistest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// StartSentinel starts a Redis Sentinel (redis-server --sentinel) that
// monitors primary under the name master, with a quorum of 1, and kills it
// when the test ends. primary must not use TLS or a password.
func StartSentinel(t testing.TB, primary *Server, master string) *Server {
	t.Helper()
	lookPath(t, "redis-server")
	return start(t, "sentinel", t.TempDir(), options{sentinelOf: primary, master: master})
}

// sentinelArgs writes the Sentinel's configuration file, which Sentinel
// requires and rewrites, and returns its command line.
func (s *Server) sentinelArgs() []string {
	conf := filepath.Join(s.dir, "sentinel.conf")
	o := s.opts
	text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 5000\n",
		o.master, o.sentinelOf.port, o.master)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	return []string{conf, "--sentinel",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
		"--daemonize", "no",
		"--protected-mode", "no",
	}
}

// SentinelURL returns a strata Redis URL that finds the master through
// this Sentinel, with the given key prefix (none if empty).
func (s *Server) SentinelURL(prefix string) string {
	q := url.Values{}
	q.Set("master", s.opts.master)
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	u := url.URL{Scheme: "redis", Host: s.Addr(), RawQuery: q.Encode()}
	return u.String()
}
