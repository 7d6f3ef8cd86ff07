package redis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend/redis"
)

// fuzzSecrets are the passwords FuzzParseURL hides in URLs; none shares
// three characters in a row with the seeds' other parts.
var fuzzSecrets = []string{"Zq9vKw7Jy", "pä$$ẞ☃ö"}

// hostileURL builds a URL that carries secret, in one of several ways
// chosen by mode, around the fuzzer's user name and the rest of the URL
// (host, port, path, query), and returns it with the spellings of the
// secret that must never be shown.
func hostileURL(scheme, user, tail string, mode uint8) (raw string, forms []string) {
	secret := fuzzSecrets[int(mode>>3)%len(fuzzSecrets)]
	encoded := pctEncode(secret)
	forms = []string{secret, encoded, strings.ToLower(encoded)}
	sep := "?"
	if strings.Contains(tail, "?") && mode&0x40 == 0 {
		sep = "&"
	}
	switch mode % 6 {
	case 0: // the password as written by a user who did not encode it
		raw = scheme + "://" + user + ":" + secret + "@" + tail
	case 1: // percent-encoded, as it should be
		raw = scheme + "://" + user + ":" + encoded + "@" + tail
	case 2: // a password-only user information
		raw = scheme + "://:" + secret + "@" + tail
	case 3: // a query parameter that go-redis knows is a password
		raw = scheme + "://" + tail + sep + "password=" + secret
	case 4: // a seed address with user information
		raw = scheme + "://" + tail + sep + "addr=" + user + ":" + secret + "@h2:7001"
	default: // a password in the user information and a sentinel address
		raw = scheme + "://" + user + ":" + encoded + "@" + tail + sep + "master=m&addr=" + secret + "@s2:26379"
	}
	return raw, forms
}

// pctEncode percent-encodes every byte of s.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// sharesSecret reports whether s holds three characters in a row of a
// secret, so that a message could show them without a leak.
func sharesSecret(s string) bool {
	s = strings.ToLower(s)
	for _, secret := range fuzzSecrets {
		for _, form := range []string{secret, pctEncode(secret)} {
			r := []rune(strings.ToLower(form))
			for i := 0; i+3 <= len(r); i++ {
				if strings.Contains(s, string(r[i:i+3])) {
					return true
				}
			}
		}
	}
	return false
}

// FuzzParseURL: whatever surrounds a password in a URL, ParseURL never
// panics, its error never shows the password, and for a URL that parses,
// neither Redact nor Config.Addr shows it.
func FuzzParseURL(f *testing.F) {
	seeds := []struct {
		scheme, user, tail string
	}{
		{"redis", "alice", "127.0.0.1:7000/0"},
		{"redis", "", "127.0.0.1:abc/0"},
		{"redis", "", "[::1"},
		{"redis", "", "127.0.0 .1:1/0"},
		{"redis", "", "127.0.0.1:1/0\n"},
		{"redis", "u", "h:7000/1?prefix=app"},
		{"rediss", "u", "h:7000?tls_insecure=true"},
		{"redis", "u", "h:7000?addr=h2:7001&addr=h3:7002"},
		{"redis", "", "s1:26379/2?master=mymaster&addr=s2:26379"},
		{"unix", "", "/run/redis.sock?db=1"},
		{"redis", "a/b", "h:1"},
		{"redis", "a?b", "h:1#f"},
		{"redis", "a@b", "h:1?x=@y"},
		{"REDIS", "", "h:1%zz"},
		{"redis", "", "h:1?prefix=a&wait=x"},
		{"redis", "", "h:1/x/y"},
	}
	for i, s := range seeds {
		f.Add(s.scheme, s.user, s.tail, uint8(i))
	}
	f.Fuzz(func(t *testing.T, scheme, user, tail string, mode uint8) {
		if sharesSecret(scheme + user + tail) {
			return
		}
		raw, forms := hostileURL(scheme, user, tail, mode)
		cfg, err := redis.ParseURL(raw)
		if err != nil {
			assertHidden(t, raw, "ParseURL error", err.Error(), forms)
			return
		}
		assertHidden(t, raw, "Redact", redis.Redact(raw), forms)
		assertHidden(t, raw, "Config.Addr", cfg.Addr(), forms)
	})
}

// FuzzRedact: Redact never panics, redacting twice changes nothing more,
// and whatever precedes the last '@' after "://" is gone but for a user
// name.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"redis://alice:s3cret@h:7000/1?prefix=x",
		"redis://u:s3/cret@h:7000",
		"redis://h:1?x=@b&password=s3cret",
		"u:s3cret@foo://h",
		"redis://h:1?password=s3?cr#et&prefix=x",
		"redis://h:1?pass%77ord=s3cret&%zz=1",
		"not a url",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		once := redis.Redact(raw)
		if twice := redis.Redact(once); twice != once {
			t.Errorf("Redact(%q) = %q, but Redact of that = %q", raw, once, twice)
		}
		if !strings.Contains(raw, "@") && !strings.Contains(strings.ToLower(raw), "=") && once != raw {
			t.Errorf("Redact(%q) = %q, want it unchanged: nothing to hide", raw, once)
		}
	})
}

func assertHidden(t *testing.T, raw, what, text string, forms []string) {
	t.Helper()
	for _, form := range forms {
		if strings.Contains(text, form) {
			t.Fatalf("ParseURL(%q): %s shows the password %q: %s", raw, what, form, text)
		}
	}
}
