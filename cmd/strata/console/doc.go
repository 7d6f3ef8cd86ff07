// Package console is the web console of strata serve: pages rendered on the
// server with html/template from files embedded in the binary, plus a few
// kilobytes of hand-written JavaScript and CSS (no build step, no request
// leaves the server).
//
// Pages:
//
//	/                          branches and tags (create and delete a branch)
//	/tree/REV/PATH             a directory at any revision, paged by cursor
//	/value/REV/PATH            a value: text, pretty JSON or a hex dump, and its history
//	/raw/REV/PATH              a value's bytes
//	/log/REV?path=P            history with a graph column, filtered by path, paged
//	/commit/REV                a commit and its changes as diffs
//	/compare/A...B             the changes from A to B and the commits in A..B
//	/edit/BRANCH/PATH          edit or add a value (write access)
//	/signin, /signout          keep a token in an HttpOnly cookie
//	/-/events?branch=B         Server-Sent Events of the branch's moves (live notice)
//	/-/static/FILE             the embedded CSS and JavaScript
//
// A revision in a URL is one path segment: a branch name with a '/' is
// written with %2F. Reading pages work without JavaScript; the script only
// shows the "branch moved" notice and adds keyboard shortcuts.
//
// Writes are POST forms that carry a CSRF token: an HMAC, under a key made
// for the process, of a random per-browser cookie and the signed-in token.
// The sign-in form carries one too, bound to the cookie alone (GET /signin
// sets it), so that another site cannot sign a visitor in with its token.
// An edit carries the head it was rendered at; if the branch has moved
// since, the edit is refused as a conflict and shown again, not applied.
package console
