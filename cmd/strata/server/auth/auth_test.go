package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParse: good files give their grants; bad lines are errors naming
// the line and never the token.
func TestParse(t *testing.T) {
	toks, err := Parse(strings.NewReader("# comment\n\nr-tok read\nw-tok write\np-tok  write  team/\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token string
		grant Grant
		ok    bool
	}{
		{"r-tok", Grant{}, true},
		{"w-tok", Grant{Write: true}, true},
		{"p-tok", Grant{Write: true, BranchPrefix: "team/"}, true},
		{"r-to", Grant{}, false},
		{"", Grant{}, false},
	} {
		g, ok := toks.Lookup(c.token)
		if diff := cmp.Diff(c.grant, g); diff != "" || ok != c.ok {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", c.token, g, ok, c.grant, c.ok)
		}
	}
	for _, bad := range []string{"", "# only a comment\n", "secret-1\n", "secret-2 admin\n", "secret-3 write a b\n",
		"secret-4 read\nsecret-4 write\n"} {
		_, err := Parse(strings.NewReader(bad))
		if !errors.Is(err, ErrInvalidTokens) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q): %v", bad, err)
		}
	}
}

// TestMayWrite: a prefix limits writes to its branches and excludes
// writes tied to no branch.
func TestMayWrite(t *testing.T) {
	p := Grant{Write: true, BranchPrefix: "team/"}
	for _, c := range []struct {
		g      Grant
		branch string
		want   bool
	}{
		{Full, "main", true}, {Full, "", true}, {Grant{}, "main", false},
		{p, "team/a", true}, {p, "team", false}, {p, "main", false}, {p, "", false},
	} {
		if got := c.g.MayWrite(c.branch); got != c.want {
			t.Errorf("%+v.MayWrite(%q) = %v", c.g, c.branch, got)
		}
	}
}

// TestToken: the bearer token (scheme case-insensitive), else the
// console's cookie; another scheme is no token.
func TestToken(t *testing.T) {
	for _, c := range []struct {
		header, cookie, want string
	}{
		{"Bearer abc", "", "abc"},
		{"bearer  abc ", "", "abc"},
		{"Basic abc", "", ""},
		{"Bearer", "", ""},
		{"", "from-cookie", "from-cookie"},
		{"Bearer abc", "from-cookie", "abc"},
		{"", "", ""},
	} {
		r, err := http.NewRequest("GET", "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: CookieName, Value: c.cookie})
		}
		if got := Token(r); got != c.want {
			t.Errorf("Token(%q, cookie %q) = %q, want %q", c.header, c.cookie, got, c.want)
		}
	}
}

// TestBearerToken: only the Authorization header, never the cookie.
func TestBearerToken(t *testing.T) {
	for _, c := range []struct {
		header, cookie, want string
	}{
		{"Bearer abc", "", "abc"},
		{"bearer  abc ", "from-cookie", "abc"},
		{"Basic abc", "from-cookie", ""},
		{"", "from-cookie", ""},
	} {
		r, err := http.NewRequest("GET", "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: CookieName, Value: c.cookie})
		}
		if got := BearerToken(r); got != c.want {
			t.Errorf("BearerToken(%q, cookie %q) = %q, want %q", c.header, c.cookie, got, c.want)
		}
	}
}
