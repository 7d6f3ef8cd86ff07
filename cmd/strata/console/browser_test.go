package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stratakv/strata/cmd/strata/server"
)

// chromiumPath finds a Chromium to drive: it skips the test if there is
// none, unless CI is set, where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH, and CI is set: install Debian's chromium package (.ci/run does)")
	}
	t.Skip("no chromium on PATH (set CI=true to make this a failure)")
	return ""
}

// TestBrowser drives the console, served by strata serve's handler, in
// one headless Chromium with several tabs. With STRATA_SCREENSHOTS=DIR it
// saves screenshots of the tree, the history and a diff in DIR.
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	kv, h := newStore(t)
	srv := newServerHandler(t, server.New(kv, server.Options{Tokens: testTokens(t)}).Handler())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true), chromedp.WindowSize(1100, 800))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	do(t, browser, "start chromium") // starts the browser (its first tab stays blank)

	// Tab A: a writer. Sign in with a write token.
	tabA, cancelA := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelA()
	do(t, tabA, "sign in",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`main[data-page=signin]`),
		chromedp.SendKeys(`input[name=token]`, writeToken),
		chromedp.Submit(`input[name=token]`),
		chromedp.WaitVisible(`main[data-page=branches]`),
	)

	// Navigate the tree to a value.
	do(t, tabA, "tree to a value",
		chromedp.Click(`a[href="/tree/main"]`),
		chromedp.WaitVisible(`main[data-page=tree] a.dir[href="/tree/main/config"]`),
	)
	screenshot(t, tabA, "console-tree.png")
	do(t, tabA, "open config",
		chromedp.Click(`a.dir[href="/tree/main/config"]`),
		chromedp.WaitVisible(`a.val[href="/value/main/config/app.json"]`),
		chromedp.Click(`a.val[href="/value/main/config/app.json"]`),
		chromedp.WaitVisible(`main[data-page=value] table.code-view`),
	)
	if got := text(t, tabA, `table.code-view`); !strings.Contains(got, `"port": 8080`) {
		t.Errorf("value page shows %q, want the pretty JSON with port 8080", got)
	}

	// Its history, then a commit and its diff.
	do(t, tabA, "value history",
		chromedp.Click(`a[accesskey=h]`),
		chromedp.WaitVisible(`main[data-page=log] table.log`),
	)
	if got := text(t, tabA, `table.log tbody tr:first-child td.msg`); !strings.Contains(got, "second commit") {
		t.Errorf("history of config/app.json starts with %q, want the second commit", got)
	}
	do(t, tabA, "full history", chromedp.Navigate(srv.URL+"/log/main"), chromedp.WaitVisible(`main[data-page=log] svg.graph`))
	screenshot(t, tabA, "console-history.png")
	do(t, tabA, "open a commit",
		chromedp.Click(`a.hash[href="/commit/`+h.second.String()+`"]`),
		chromedp.WaitVisible(`main[data-page=commit] table.diff`),
	)
	if got := text(t, tabA, `main`); !strings.Contains(got, "line 2 changed") || !strings.Contains(got, "db.host") {
		t.Errorf("commit page lacks the README line diff or the JSON member db.host:\n%s", got)
	}
	screenshot(t, tabA, "console-diff.png")

	// Compare two revisions through the form.
	do(t, tabA, "compare",
		chromedp.Navigate(srv.URL+"/compare"),
		chromedp.SendKeys(`input[name=a]`, "v1"),
		chromedp.SendKeys(`input[name=b]`, "main"),
		chromedp.Submit(`input[name=b]`),
		chromedp.WaitVisible(`main[data-page=compare]`),
	)
	if got := text(t, tabA, `main`); !strings.Contains(got, "feature.txt") || !strings.Contains(got, "add a feature") {
		t.Errorf("compare v1...main lacks feature.txt or its commit:\n%s", got)
	}

	// Tab B, same browser context (signed in too): the history of main,
	// subscribed to the branch's moves.
	tabB, cancelB := chromedp.NewContext(tabA)
	defer cancelB()
	do(t, tabB, "second tab",
		chromedp.Navigate(srv.URL+"/log/main"),
		chromedp.WaitVisible(`main[data-page=log]`),
		chromedp.WaitReady(`body[data-live=on]`),
	)
	if vis := evalBool(t, tabB, `!document.getElementById("live").hidden`); vis {
		t.Fatal("the live notice shows before the branch moved")
	}

	// Tab A edits a value and commits.
	do(t, tabA, "edit",
		chromedp.Navigate(srv.URL+"/value/main/README"),
		chromedp.Click(`a[accesskey=e]`),
		chromedp.WaitVisible(`main[data-page=edit] textarea`),
		chromedp.SetValue(`textarea[name=value]`, "edited in a browser\n"),
		chromedp.SetValue(`input[name=message]`, "edited from the browser test"),
		chromedp.Click(`#commit`),
		chromedp.WaitVisible(`main[data-page=value] p.ok`),
	)
	if got := text(t, tabA, `table.code-view`); !strings.Contains(got, "edited in a browser") {
		t.Errorf("after the edit the value shows %q", got)
	}
	do(t, tabA, "log after edit", chromedp.Navigate(srv.URL+"/log/main"), chromedp.WaitVisible(`main[data-page=log]`))
	if got := text(t, tabA, `table.log tbody tr:first-child td.msg`); got != "edited from the browser test" {
		t.Errorf("top of the log after the edit: %q", got)
	}

	// Tab B shows the notice without being reloaded.
	do(t, tabB, "live notice", chromedp.WaitVisible(`#live #reload`))
	if got := text(t, tabB, `#live`); !strings.Contains(got, "Branch main moved") {
		t.Errorf("live notice %q", got)
	}

	// A request without the CSRF token is refused: drop the hidden field
	// from a real edit form and submit it.
	head := mustHead(t, kv, "main")
	do(t, tabA, "edit without csrf",
		chromedp.Navigate(srv.URL+"/edit/main/README"),
		chromedp.WaitVisible(`textarea[name=value]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=csrf]").remove()`),
		chromedp.SetValue(`textarea[name=value]`, "forged"),
		chromedp.Click(`#commit`),
		chromedp.WaitVisible(`main[data-page=error]`),
	)
	if got := text(t, tabA, `main h1`); !strings.Contains(got, "403") {
		t.Errorf("a post without the CSRF token shows %q, want a 403 page", got)
	}
	if now := mustHead(t, kv, "main"); now != head {
		t.Errorf("a post without the CSRF token moved main")
	}

	// Tab C, its own browser context, signed in with a read token: no edit
	// link, and the edit form is refused.
	tabC, cancelC := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelC()
	do(t, tabC, "read token",
		chromedp.Navigate(srv.URL+"/signin?next=/value/main/README"),
		chromedp.SendKeys(`input[name=token]`, readToken),
		chromedp.Submit(`input[name=token]`),
		chromedp.WaitVisible(`main[data-page=value]`),
	)
	if evalBool(t, tabC, `document.querySelector("a[href^='/edit/']") !== null`) {
		t.Error("a read token sees an edit link")
	}
	do(t, tabC, "read token edit", chromedp.Navigate(srv.URL+"/edit/main/README"), chromedp.WaitVisible(`main[data-page=error]`))
	if evalBool(t, tabC, `document.querySelector("textarea") !== null`) {
		t.Error("a read token sees the edit form")
	}
}

// newServerHandler serves h on a loopback port.
func newServerHandler(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func evalBool(t *testing.T, ctx context.Context, expr string) bool {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return b
}

// screenshot saves the tab's viewport as name in $STRATA_SCREENSHOTS, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("STRATA_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
