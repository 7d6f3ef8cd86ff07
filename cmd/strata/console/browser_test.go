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

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=signin]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), writeToken),
		chromedp.Submit(chromedp.CSS(`input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=branches]`)),
	)

	// Navigate the tree to a value.
	do(t, tabA, "tree to a value",
		chromedp.Click(chromedp.CSS(`a[href="/tree/main"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=tree] a.dir[href="/tree/main/config"]`)),
	)
	screenshot(t, tabA, "console-tree.png")
	do(t, tabA, "open config",
		chromedp.Click(chromedp.CSS(`a.dir[href="/tree/main/config"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.val[href="/value/main/config/app.json"]`)),
		chromedp.Click(chromedp.CSS(`a.val[href="/value/main/config/app.json"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=value] table.code-view`)),
	)
	if got := text(t, tabA, `table.code-view`); !strings.Contains(got, `"port": 8080`) {
		t.Errorf("value page shows %q, want the pretty JSON with port 8080", got)
	}

	// Its history, then a commit and its diff.
	do(t, tabA, "value history",
		chromedp.Click(chromedp.CSS(`a[accesskey=h]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=log] table.log`)),
	)
	if got := text(t, tabA, `table.log tbody tr:first-child td.msg`); !strings.Contains(got, "second commit") {
		t.Errorf("history of config/app.json starts with %q, want the second commit", got)
	}
	do(t, tabA, "full history", chromedp.Navigate(srv.URL+"/log/main"), chromedp.WaitVisible(chromedp.CSS(`main[data-page=log] svg.graph`)))
	screenshot(t, tabA, "console-history.png")
	do(t, tabA, "open a commit",
		chromedp.Click(chromedp.CSS(`a.hash[href="/commit/`+h.second.String()+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=commit] table.diff`)),
	)
	if got := text(t, tabA, `main`); !strings.Contains(got, "line 2 changed") || !strings.Contains(got, "db.host") {
		t.Errorf("commit page lacks the README line diff or the JSON member db.host:\n%s", got)
	}
	screenshot(t, tabA, "console-diff.png")

	// Compare two revisions through the form.
	do(t, tabA, "compare",
		chromedp.Navigate(srv.URL+"/compare"),
		chromedp.SendKeys(chromedp.CSS(`input[name=a]`), "v1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=b]`), "main"),
		chromedp.Submit(chromedp.CSS(`input[name=b]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=compare]`)),
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
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=log]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-live=on]`)),
	)
	if vis := evalBool(t, tabB, `!document.getElementById("live").hidden`); vis {
		t.Fatal("the live notice shows before the branch moved")
	}

	// Tab A edits a value and commits.
	do(t, tabA, "edit",
		chromedp.Navigate(srv.URL+"/value/main/README"),
		chromedp.Click(chromedp.CSS(`a[accesskey=e]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=edit] textarea`)),
		chromedp.SetValue(chromedp.CSS(`textarea[name=value]`), "edited in a browser\n"),
		chromedp.SetValue(chromedp.CSS(`input[name=message]`), "edited from the browser test"),
		chromedp.Click(chromedp.CSS(`#commit`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=value] p.ok`)),
	)
	if got := text(t, tabA, `table.code-view`); !strings.Contains(got, "edited in a browser") {
		t.Errorf("after the edit the value shows %q", got)
	}
	do(t, tabA, "log after edit", chromedp.Navigate(srv.URL+"/log/main"), chromedp.WaitVisible(chromedp.CSS(`main[data-page=log]`)))
	if got := text(t, tabA, `table.log tbody tr:first-child td.msg`); got != "edited from the browser test" {
		t.Errorf("top of the log after the edit: %q", got)
	}

	// Tab B shows the notice without being reloaded.
	do(t, tabB, "live notice", chromedp.WaitVisible(chromedp.CSS(`#live #reload`)))
	if got := text(t, tabB, `#live`); !strings.Contains(got, "Branch main moved") {
		t.Errorf("live notice %q", got)
	}

	// A request without the CSRF token is refused: drop the hidden field
	// from a real edit form and submit it.
	head := mustHead(t, kv, "main")
	do(t, tabA, "edit without csrf",
		chromedp.Navigate(srv.URL+"/edit/main/README"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=value]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("textarea[name=value]").form.querySelector("input[name=csrf]").remove()`),
		chromedp.SetValue(chromedp.CSS(`textarea[name=value]`), "forged"),
		chromedp.Click(chromedp.CSS(`#commit`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=error]`)),
	)
	if got := text(t, tabA, `main h1`); !strings.Contains(got, "403") {
		t.Errorf("a post without the CSRF token shows %q, want a 403 page", got)
	}
	if now := mustHead(t, kv, "main"); now != head {
		t.Errorf("a post without the CSRF token moved main")
	}

	// Keyboard: j selects the first row of a list and focuses its link.
	do(t, tabA, "keyboard",
		chromedp.Navigate(srv.URL+"/log/main"),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=log]`)),
		chromedp.KeyEvent("j"),
	)
	if !evalBool(t, tabA, `document.querySelector("table.log tbody tr").contains(document.activeElement) && document.activeElement.tagName === "A"`) {
		t.Error("j did not focus the first row's link")
	}

	// Phone width: no page is wider than the screen (wide tables scroll
	// inside their own box).
	phone, cancelPhone := chromedp.NewContext(tabA)
	defer cancelPhone()
	do(t, phone, "phone width", chromedp.EmulateViewport(375, 740))
	for _, p := range []string{"/", "/tree/main/config", "/value/main/config/app.json", "/log/main", "/commit/" + h.second.String(), "/compare/v1...main?view=split", "/edit/main/README"} {
		do(t, phone, "phone "+p, chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(chromedp.ID("main")))
		if w := evalInt(t, phone, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s is %dpx wider than a 375px screen", p, w)
		}
	}
	cancelPhone()

	// Tab C, its own browser context, signed in with a read token: no edit
	// link, and the edit form is refused.
	tabC, cancelC := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelC()
	do(t, tabC, "read token",
		chromedp.Navigate(srv.URL+"/signin?next=/value/main/README"),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), readToken),
		chromedp.Submit(chromedp.CSS(`input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page=value]`)),
	)
	if evalBool(t, tabC, `document.querySelector("a[href^='/edit/']") !== null`) {
		t.Error("a read token sees an edit link")
	}
	do(t, tabC, "read token edit", chromedp.Navigate(srv.URL+"/edit/main/README"), chromedp.WaitVisible(chromedp.CSS(`main[data-page=error]`)))
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
	start := time.Now()
	defer func() { t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond)) }()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
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

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return n
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
