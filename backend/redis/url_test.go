package redis_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/redis"
)

func TestParseURL(t *testing.T) {
	type want struct {
		kind     string // "single", "unix", "cluster" or "failover"
		addrs    []string
		prefix   string
		db       int
		user     string
		password string
		wait     int
		timeout  time.Duration
		tls      bool
	}
	cases := []struct {
		url  string
		want want
	}{
		{"redis://127.0.0.1:7000", want{kind: "single", addrs: []string{"127.0.0.1:7000"}, prefix: "strata"}},
		{"redis://localhost", want{kind: "single", addrs: []string{"localhost:6379"}, prefix: "strata"}},
		{"redis://h:7000/3?prefix=app-1.v2_x", want{kind: "single", addrs: []string{"h:7000"}, prefix: "app-1.v2_x", db: 3}},
		{"redis://h:7000?db=2", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata", db: 2}},
		{"redis://alice:s3cret@h:7000/0", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata", user: "alice", password: "s3cret"}},
		{"redis://:p%40ss%2Fw@h:7000", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata", password: "p@ss/w"}},
		{"redis://h:7000?wait=2&wait_timeout=250ms", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata", wait: 2, timeout: 250 * time.Millisecond}},
		{"redis://h:7000?dial_timeout=3&read_timeout=6s&pool_size=4", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata"}},
		{"redis://[::1]:7000", want{kind: "single", addrs: []string{"[::1]:7000"}, prefix: "strata"}},
		{"rediss://h:7000?tls_insecure=true", want{kind: "single", addrs: []string{"h:7000"}, prefix: "strata", tls: true}},
		{"unix:///run/redis.sock?db=1&prefix=u", want{kind: "unix", addrs: []string{"/run/redis.sock"}, prefix: "u", db: 1}},
		{"redis://h1:7000?addr=h2:7001&addr=h3:7002&prefix=c", want{kind: "cluster", addrs: []string{"h1:7000", "h2:7001", "h3:7002"}, prefix: "c"}},
		{"redis://h1:7000?cluster=true", want{kind: "cluster", addrs: []string{"h1:7000"}, prefix: "strata"}},
		{"redis://u:pw@h1:7000/0?cluster=1&wait=1", want{kind: "cluster", addrs: []string{"h1:7000"}, prefix: "strata", user: "u", password: "pw", wait: 1}},
		{"rediss://h1:7000?addr=h2:7001&tls_insecure=1", want{kind: "cluster", addrs: []string{"h1:7000", "h2:7001"}, prefix: "strata", tls: true}},
		{"redis://s1:26379/2?master=mymaster&addr=s2:26379", want{kind: "failover", addrs: []string{"s1:26379", "s2:26379"}, prefix: "strata", db: 2}},
		{"redis://:pw@s1:26379?master=m", want{kind: "failover", addrs: []string{"s1:26379"}, prefix: "strata", password: "pw"}},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := redis.ParseURL(tc.url)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			var got want
			got.prefix, got.wait, got.timeout = cfg.Prefix, cfg.Wait, cfg.WaitTimeout
			switch {
			case cfg.Cluster != nil:
				o := cfg.Cluster
				got.kind, got.addrs, got.user, got.password, got.tls = "cluster", o.Addrs, o.Username, o.Password, o.TLSConfig != nil
				if !o.ContextTimeoutEnabled {
					t.Error("ContextTimeoutEnabled is false")
				}
			case cfg.Failover != nil:
				o := cfg.Failover
				got.kind, got.addrs, got.db, got.user, got.password, got.tls = "failover", o.SentinelAddrs, o.DB, o.Username, o.Password, o.TLSConfig != nil
			case cfg.Options != nil:
				o := cfg.Options
				got.kind, got.addrs, got.db, got.user, got.password, got.tls = "single", []string{o.Addr}, o.DB, o.Username, o.Password, o.TLSConfig != nil
				if o.Network == "unix" {
					got.kind = "unix"
				}
				if !o.ContextTimeoutEnabled {
					t.Error("ContextTimeoutEnabled is false")
				}
			default:
				t.Fatal("ParseURL returned a Config with no client options")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
			}
			if cfg.Options != nil && cfg.Options.Password != "" && strings.Contains(cfg.Addr(), cfg.Options.Password) {
				t.Errorf("Addr() = %q contains the password", cfg.Addr())
			}
		})
	}
}

func TestParseURLRejects(t *testing.T) {
	const pw = "Sup3rSecret"
	cases := []struct {
		url     string
		mention string // a part of the message that says what is wrong
	}{
		{"", "no scheme"},
		{"127.0.0.1:7000", "scheme"},
		{"http://h:7000", `unknown scheme "http"`},
		{"redis://h:0", `port "0"`},
		{"redis://h:70000", `port "70000"`},
		{"redis://h:port", "port"},
		{"redis://u:" + pw + "@h:99999", `port "99999"`},
		{"redis://u:" + pw + "@h:7000/x", "database"},
		{"redis://u:" + pw + "@h:7000/-1", "negative"},
		{"redis://u:" + pw + "@h:7000/1/2", "path"},
		{"redis://u:" + pw + "@h:7000?db=x", "database"},
		{"redis://u:" + pw + "@h:7000?bogus=1", "bogus"},
		{"redis://u:" + pw + "@h:7000?password=" + pw, "password"},
		{"redis://u:" + pw + "@h:7000?prefix=", "prefix is empty"},
		{"redis://u:" + pw + "@h:7000?prefix=a:b", `prefix "a:b"`},
		{"redis://u:" + pw + "@h:7000?prefix={tag}", "prefix"},
		{"redis://u:" + pw + "@h:7000?prefix=a*", "prefix"},
		{"redis://u:" + pw + "@h:7000?prefix=a&prefix=b", "2 times"},
		{"redis://u:" + pw + "@h:7000?wait=-1", "wait"},
		{"redis://u:" + pw + "@h:7000?wait=two", "wait"},
		{"redis://u:" + pw + "@h:7000?wait_timeout=5", "wait_timeout"},
		{"redis://u:" + pw + "@h:7000?wait_timeout=-1s", "wait_timeout"},
		{"redis://u:" + pw + "@h:7000?cluster=maybe", "cluster"},
		{"redis://u:" + pw + "@h:7000?tls_ca=/x.pem", "rediss"},
		{"redis://u:" + pw + "@h:7000?tls_insecure=true", "rediss"},
		{"rediss://u:" + pw + "@h:7000?tls_ca=/nonexistent/ca.pem", "tls_ca"},
		{"rediss://u:" + pw + "@h:7000?tls_cert=/x.pem", "tls_key"},
		{"rediss://u:" + pw + "@h:7000?tls_insecure=perhaps", "tls_insecure"},
		{"redis://u:" + pw + "@h:7000?addr=h2", "addr"},
		{"redis://u:" + pw + "@h:7000?addr=h2:0", "addr"},
		{"redis://u:" + pw + "@h:7000/3?addr=h2:7001", "database 0"},
		{"redis://u:" + pw + "@h:7000?addr=h2:7001&read_only=maybe", "read_only"},
		{"redis://u:" + pw + "@h:7000?cluster=true&master=m", "exclude"},
		{"redis://u:" + pw + "@h:7000?master=", "master"},
		{"unix://u:" + pw + "@h/sock", "unix"},
		{"unix:///sock?cluster=true", "unix"},
		{"redis://u:" + pw + "@h:7000#frag", "fragment"},
		{"redis://u:" + pw + "@h:7000?a=%zz", "query"},
		// Passwords that were not percent-encoded: url.Parse fails or
		// misreads them, and must not quote them.
		{"redis://u:" + pw + "/x@h:7000", "malformed"},
		{"redis://u:" + pw + "?x@h:7000", "malformed"},
		{"redis://u:" + pw + "#x@h:7000", "malformed"},
		{"redis://u:12/" + pw + "@h:7000", "outside the user information"},
		{"redis://h:7000?prefix=a@b", "outside the user information"},
		{"redis://u:" + pw + "%zz@h:7000", "malformed"},
		// Issue 9's cases: each was once quoted whole by the facade.
		{"redis://:" + pw + "@127.0.0.1:abc/0", `invalid port ":abc"`},
		{"redis://:" + pw + "@[::1", "missing ']'"},
		{"redis://:" + pw + "@127.0.0 .1:1/0", "invalid character"},
		{"redis://:" + pw + "@127.0.0.1:1/0\n", "control character"},
		{"redis://:" + pw + "☃@h:1", "percent-encode"},
		{"redis://:" + pw + " x@h:1", "percent-encode"},
		{"redis://u:" + pw + "@h:1?addr=v:" + pw + "@h2:2", "outside the user information"},
		{"redis://h:1?addr=v:" + pw + "@h2:2", "outside the user information"},
		{"redis://h:1?master=m&addr=:" + pw + "@h2:2", "outside the user information"},
		{"u:" + pw + "@redis://h:1", "outside the user information"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := redis.ParseURL(tc.url)
			if !errors.Is(err, backend.ErrInvalidURL) {
				t.Fatalf("ParseURL(%q) = %+v, %v; want an error wrapping backend.ErrInvalidURL", tc.url, cfg, err)
			}
			msg := err.Error()
			if strings.Contains(msg, pw) || strings.Contains(msg, "Sup3r") {
				t.Errorf("the error shows the password: %s", msg)
			}
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("the error %q does not mention %q", msg, tc.mention)
			}
			t.Log(msg)
		})
	}
}

func TestParseURLTLSFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := redis.ParseURL("rediss://h:7000?tls_ca=" + bad)
	if !errors.Is(err, backend.ErrInvalidURL) || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("ParseURL with a tls_ca that is not PEM = %v; want ErrInvalidURL saying so", err)
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"redis://h:7000/1?prefix=x", "redis://h:7000/1?prefix=x"},
		{"redis://alice:s3cret@h:7000/1?prefix=x", "redis://alice:xxxxx@h:7000/1?prefix=x"},
		{"redis://:s3cret@h:7000", "redis://:xxxxx@h:7000"},
		{"redis://alice@h:7000", "redis://alice@h:7000"},
		{"rediss://u:p%40ss@h:7000?addr=h2:1", "rediss://u:xxxxx@h:7000?addr=h2:1"},
		{"redis://h:7000?sentinel_password=s3cret&prefix=x", "redis://h:7000?sentinel_password=xxxxx&prefix=x"},
		{"redis://u:s3/cret@h:7000", "redis://u:xxxxx@h:7000"},
		{"redis://u:s3?cret@h:7000", "redis://u:xxxxx@h:7000"},
		{"redis://u:s3#cret@h:7000", "redis://u:xxxxx@h:7000"},
		{"redis://u:12/34@h:7000", "redis://u:xxxxx@h:7000"},
		{"redis://u:s3cret@h:7000?prefix=a@b", "redis://u:xxxxx@b"},
		{"redis://u:s3%zzcret@h:7000", "redis://u:xxxxx@h:7000"},
		{"not a url at all", "not a url at all"},
		{"u:s3cret@h", "u:xxxxx@h"},
		{"redis://h:7000%zz?password=s3cret", "redis://h:7000%zz?password=xxxxx"},
		// Text before "://" that is not a scheme may hold the password.
		{"u:s3cret@foo://h", "u:xxxxx@foo://h"},
		{"redis:s3cret@h", "redis:xxxxx@h"},
		// An '@' in the query: a password parameter after it is still found.
		{"redis://h:1?x=@b&password=s3cret", "redis://h:xxxxx@b&password=xxxxx"},
		{"redis://h:1?password=s3?cr#et&prefix=x", "redis://h:1?password=xxxxx&prefix=x"},
		{"redis://h:1?pass%77ord=s3cret", "redis://h:1?pass%77ord=xxxxx"},
		{"redis://h:1?auth_token=s3cret&%zz=s3cret", "redis://h:1?auth_token=xxxxx&%zz=xxxxx"},
		{"redis://h:1?addr=u:s3cret@h2:2", "redis://h:xxxxx@h2:2"},
		{"redis://h:1?addr=u:s3cret@h2:2&addr=v:s4cret@h3:3", "redis://h:xxxxx@h3:3"},
		{"redis://u:s3cret@[::1", "redis://u:xxxxx@[::1"},
		{"redis://u:s3cret@h:1/0\n", "redis://u:xxxxx@h:1/0\n"},
		{"redis://u:päss☃@h:1", "redis://u:xxxxx@h:1"},
	}
	for _, tc := range cases {
		if got := redis.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
