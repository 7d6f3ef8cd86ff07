package server

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenAPI: the document parses as OpenAPI 3, docs/openapi.json is the
// same file, it is what /v1/openapi.json serves, and its operations are
// exactly the routes the server registers under /v1.
func TestOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, openAPI) {
		t.Fatal("docs/openapi.json differs from cmd/strata/server/openapi.json: copy it over")
	}
	h := newHarness(t, "mem://", Options{})
	if r := h.want(200, "GET", "/v1/openapi.json", ""); !bytes.Equal(r.body, openAPI) {
		t.Fatal("/v1/openapi.json serves another document")
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented = append(documented, strings.ToUpper(method)+" "+path)
				// Every operation on the store needs a token and a store
				// that is open: 401 and 503 are documented.
				var op struct{ Responses map[string]json.RawMessage }
				if err := json.Unmarshal(ops[method], &op); err != nil {
					t.Fatal(err)
				}
				for _, code := range []string{"401", "503"} {
					if _, ok := op.Responses[code]; !ok && path != "/v1/openapi.json" {
						t.Errorf("%s %s: status %s is not documented", method, path, code)
					}
				}
			}
		}
	}
	wildcard := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	var registered []string
	for _, p := range h.srv.patterns {
		// A pattern without a method is not part of the JSON API: the
		// HTTP store under /v1/store/ (docs/PROTOCOL.md) and the console.
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, "/v1/") {
			continue
		}
		registered = append(registered, method+" "+wildcard.ReplaceAllString(path, "{$1}"))
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if diff := cmp.Diff(documented, registered); diff != "" {
		t.Fatalf("documented (-) and registered (+) routes differ:\n%s", diff)
	}
}
