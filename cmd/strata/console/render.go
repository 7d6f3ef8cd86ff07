package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stratakv/strata"
)

// page is what every template gets.
type page struct {
	Name  string // the template: main's data-page, for tests and styles
	Title string
	S     *session
	// Branch, if set, is the branch the page shows at Head: the script
	// watches it and shows a notice when it moves.
	Branch string
	Head   string
	Data   any
}

// pages are the templates with a "content" block, rendered inside layout.
var pages = []string{"branches", "tree", "value", "log", "commit", "compare", "compareform", "edit", "signin", "error"}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"rev":     func(rev string) string { return url.PathEscape(rev) },
		"pathURL": escapePath,
		"short":   func(h strata.Hash) string { return h.Short() },
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"size":    humanSize,
		"add":     func(a, b int) int { return a + b },
		"firstLine": func(s string) string {
			s, _, _ = strings.Cut(s, "\n")
			return s
		},
	}
	out := make(map[string]*template.Template, len(pages))
	for _, name := range pages {
		t := template.New("layout.html").Funcs(funcs)
		t = template.Must(t.ParseFS(assets, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
		out[name] = t
	}
	return out
}

// escapePath escapes each segment of a store path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func humanSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// render writes template name with status code. It renders into a buffer
// first so a template error becomes a 500, not half a page.
func (c *console) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	p.Name = name
	var buf bytes.Buffer
	if err := c.tmpl[name].Execute(&buf, p); err != nil {
		c.opts.Logger.Error("console template", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
