package strata

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseStoreURL: the facade reads only the scheme and hands the rest to
// the backend's parser; what it finds for each kind of store.
func TestParseStoreURL(t *testing.T) {
	type got struct {
		Kind  storeKind
		Dir   string
		Redis string // Config.Addr of a Redis store
		HTTP  string // the URL of an HTTP store
		Cache string
	}
	cases := []struct {
		in   string
		want got
	}{
		{"./dir", got{Kind: kindPebble, Dir: "./dir"}},
		{"/abs/dir", got{Kind: kindPebble, Dir: "/abs/dir"}},
		{"dir/with@at:colon", got{Kind: kindPebble, Dir: "dir/with@at:colon"}},
		{"pebble:///tmp/x", got{Kind: kindPebble, Dir: "/tmp/x"}},
		{"pebble://localhost/tmp/x", got{Kind: kindPebble, Dir: "/tmp/x"}},
		{"pebble:///tmp/a%20b", got{Kind: kindPebble, Dir: "/tmp/a b"}},
		{"PEBBLE:///tmp/x", got{Kind: kindPebble, Dir: "/tmp/x"}},
		{"mem://", got{Kind: kindMem}},
		{"mem:///", got{Kind: kindMem}},
		{"redis://:pw@127.0.0.1:7000/0?prefix=a", got{Kind: kindRedis, Redis: "127.0.0.1:7000"}},
		{"REDIS://127.0.0.1:7000", got{Kind: kindRedis, Redis: "127.0.0.1:7000"}},
		{"unix:///run/redis.sock", got{Kind: kindRedis, Redis: "unix /run/redis.sock"}},
		{"redis://h1:1?addr=h2:2", got{Kind: kindRedis, Redis: "cluster h1:1,h2:2"}},
		{"http://127.0.0.1:7070", got{Kind: kindHTTP, HTTP: "http://127.0.0.1:7070"}},
		{"https://h/strata?token=t", got{Kind: kindHTTP, HTTP: "https://h/strata?token=t"}},
		{"http://h:1?cache=/tmp/c&token=t", got{Kind: kindHTTP, HTTP: "http://h:1?token=t", Cache: "/tmp/c"}},
		{"http://h:1?token=t&cache=%2Ftmp%2Fa%20b", got{Kind: kindHTTP, HTTP: "http://h:1?token=t", Cache: "/tmp/a b"}},
		{"redis://127.0.0.1:7000?cache=/tmp/c", got{Kind: kindRedis, Redis: "127.0.0.1:7000", Cache: "/tmp/c"}},
	}
	for _, tc := range cases {
		spec, err := parseStoreURL(tc.in)
		if err != nil {
			t.Errorf("parseStoreURL(%q): %v", tc.in, err)
			continue
		}
		g := got{Kind: spec.kind, Dir: spec.dir, HTTP: spec.http, Cache: spec.cache}
		if spec.redis != nil {
			g.Redis = spec.redis.Addr()
		}
		if diff := cmp.Diff(tc.want, g); diff != "" {
			t.Errorf("parseStoreURL(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestParseStoreURLRejects: each bad store URL is ErrInvalidURL, says what
// is wrong, and never shows the password, wherever the text puts it.
func TestParseStoreURLRejects(t *testing.T) {
	const pw = "Hid3Me"
	cases := []struct{ in, mention string }{
		{"", "empty"},
		{"mem://host", "mem://"},
		{"mem://?x=1", "mem://"},
		{"pebble://remote/dir", "local path"},
		{"pebble://u:" + pw + "@remote/dir", "local path"},
		{"pebble:///dir?x=1", "no parameters"},
		{"pebble:///dir#x", "no parameters"},
		{"pebble://", "no directory"},
		{"pebble:///a%zz", "escape"},
		{"foo://u:" + pw + "@h", "unknown scheme"},
		{"u:" + pw + "@foo://h", "unknown scheme"},
		{"redis:" + pw + "@h", "want redis://"},
		{"redis:/u:" + pw + "@h", "want redis://"},
		{"mem:", "want mem://"},
		// Issue 9, finding 4: net/url once quoted these whole.
		{"redis://:" + pw + "@127.0.0.1:abc/0", "port"},
		{"redis://:" + pw + "@[::1", "]"},
		{"redis://:" + pw + "%zz@127.0.0.1:1/0", "malformed"},
		{"redis://:" + pw + "@127.0.0 .1:1/0", "invalid character"},
		{"redis://:" + pw + "@127.0.0.1:1/0\n", "control character"},
	}
	for _, tc := range cases {
		_, err := parseStoreURL(tc.in)
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("parseStoreURL(%q) = %v, want ErrInvalidURL", tc.in, err)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, pw) {
			t.Errorf("parseStoreURL(%q): the error shows the password: %s", tc.in, msg)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("parseStoreURL(%q): the error spans lines: %q", tc.in, msg)
		}
		if !strings.Contains(msg, tc.mention) {
			t.Errorf("parseStoreURL(%q): the error %q does not mention %q", tc.in, msg, tc.mention)
		}
	}
}

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"./dir", "./dir"},
		{"/home/u/@work:x", "/home/u/@work:x"},
		{"mem://", "mem://"},
		{"redis://:s3cret@h:1/0", "redis://:xxxxx@h:1/0"},
		{"redis:s3cret@h", "redis:xxxxx@h"},
		{"u:s3cret@foo://h", "u:xxxxx@foo://h"},
		{"rediss://u:s3cret@h:1?password=s3cret", "rediss://u:xxxxx@h:1?password=xxxxx"},
	}
	for _, tc := range cases {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseStoreURL: the facade's dispatch never panics, and neither its
// error nor RedactURL shows a password placed in the user information of
// a URL of any scheme, or in a password parameter.
func FuzzParseStoreURL(f *testing.F) {
	for _, s := range []struct{ scheme, tail string }{
		{"redis", "127.0.0.1:abc/0"},
		{"redis", "[::1"},
		{"redis", "h:1/0\n"},
		{"rediss", "h:1?tls_insecure=1"},
		{"unix", "/run/redis.sock"},
		{"pebble", "/tmp/x"},
		{"mem", ""},
		{"foo", "h"},
		{"", "h"},
		{"redis:", "h"},
	} {
		for mode := uint8(0); mode < 3; mode++ {
			f.Add(s.scheme, s.tail, mode)
		}
	}
	const secret = "Zq9vKw7Jy"
	f.Fuzz(func(t *testing.T, scheme, tail string, mode uint8) {
		if strings.Contains(scheme+tail, "Zq9") || strings.Contains(scheme+tail, "7Jy") || strings.Contains(scheme+tail, "vKw") {
			return
		}
		var raw string
		switch mode % 3 {
		case 0:
			raw = scheme + "://u:" + secret + "@" + tail
		case 1:
			raw = scheme + "//:" + secret + "@" + tail // a scheme missing its "//"... or not a URL at all
		default:
			raw = scheme + "://" + tail + "?password=" + secret
		}
		spec, err := parseStoreURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("parseStoreURL(%q): the error shows the password: %v", raw, err)
			}
			return
		}
		if spec.kind != kindPebble && strings.Contains(RedactURL(raw), secret) {
			t.Fatalf("RedactURL(%q) = %q shows the password", raw, RedactURL(raw))
		}
		if spec.redis != nil && strings.Contains(spec.redis.Addr(), secret) {
			t.Fatalf("parseStoreURL(%q): Addr %q shows the password", raw, spec.redis.Addr())
		}
	})
}

// TestHTTPStoreURLs: http(s) store URLs and their cache parameter; a bad
// one is ErrInvalidURL and its token is never shown, by the error or by
// RedactURL.
func TestHTTPStoreURLs(t *testing.T) {
	const tok = "Hid3Me"
	for _, in := range []string{
		"http://h:1?token=" + tok + "&bogus=1",
		"http://h:1?token=" + tok + "&cache=",
		"http://h:1?token=" + tok + "&cache=a&cache=b",
		"ftp://h:1?token=" + tok,
		"http://?token=" + tok,
		"redis://127.0.0.1:1?token=" + tok + "&cache=",
	} {
		_, err := parseStoreURL(in)
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("parseStoreURL(%q) = %v, want ErrInvalidURL", in, err)
			continue
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("parseStoreURL(%q): the error shows the token: %s", in, err)
		}
	}
	for _, in := range []string{
		"http://h:1?token=" + tok,
		"https://h:1/p?cache=/c&token=" + tok + "&x=1",
		"http://h:1?token=" + tok + "#frag",
	} {
		if got := RedactURL(in); strings.Contains(got, tok) || !strings.Contains(got, "token=xxxxx") {
			t.Errorf("RedactURL(%q) = %q; want the token hidden", in, got)
		}
	}
}
