package redistest_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratakv/strata/internal/redistest"
)

func TestStart(t *testing.T) {
	s := redistest.Start(t)
	if strings.HasSuffix(s.Addr(), ":6379") {
		t.Errorf("Addr() = %s; tests must not use the default port", s.Addr())
	}
	if got, err := s.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	if got, err := s.Do("CONFIG", "GET", "appendonly"); err != nil || got != "appendonly\nno" {
		t.Errorf("CONFIG GET appendonly = %q, %v; want no", got, err)
	}
	if u := s.URL("p"); u != "redis://"+s.Addr()+"?prefix=p" {
		t.Errorf("URL(p) = %s", u)
	}
	s.Kill()
	if _, err := s.Do("PING"); err == nil {
		t.Error("PING after Kill succeeded")
	}
	s.Kill() // a second Kill does nothing
}

func TestRestartKeepsAOF(t *testing.T) {
	s := redistest.Start(t, redistest.WithAOF())
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	addr := s.Addr()
	s.Kill()
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Restart moved the server from %s to %s", addr, s.Addr())
	}
	if got, err := s.Do("GET", "k"); err != nil || got != "v" {
		t.Errorf("GET after Kill and Restart = %q, %v; want v", got, err)
	}
}

func TestUserAndTLS(t *testing.T) {
	s := redistest.Start(t, redistest.WithUser("u", "pw"), redistest.WithTLS())
	if got, err := s.Do("ACL", "WHOAMI"); err != nil || got != "u" {
		t.Errorf("ACL WHOAMI = %q, %v; want u", got, err)
	}
	u, err := url.Parse(s.URL("p"))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.Scheme != "rediss" || u.User.Username() != "u" || pw != "pw" || u.Query().Get("tls_ca") != s.TLS().CA {
		t.Errorf("URL = %s; want rediss with the user, password and CA", u)
	}
	for _, f := range []string{s.TLS().CA, s.TLS().ServerCert, s.TLS().ClientKey} {
		if _, err := os.Stat(f); err != nil || filepath.Dir(f) != s.Dir() {
			t.Errorf("TLS file %s: %v; want it in %s", f, err, s.Dir())
		}
	}
}
