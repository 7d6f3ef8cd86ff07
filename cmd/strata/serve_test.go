package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
)

// lockedBuffer collects a child process's standard error.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is a "strata serve" process.
type served struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string // from the line it printed
	line   string // that line
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // of Wait, once done
}

// startServe starts "strata -s STORE serve ARGS" and waits for the line
// that names its URL. The process is killed at the end of the test if it
// is still running.
func startServe(t *testing.T, storeDir string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"-s", storeDir, "serve"}, args...)...)
	s := &served{t: t, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		<-s.done
		t.Fatalf("strata serve %q printed %q: %v; stderr:\n%s", args, line, err, s.stderr)
	}
	s.line = line
	_, url, ok := strings.Cut(strings.TrimSpace(line), " at ")
	if !ok {
		t.Fatalf("strata serve printed %q", line)
	}
	s.url = url
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *served) stop() int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	<-s.done
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatal(s.err)
	}
	return 0
}

// call sends a request with a bearer token (if not empty) and returns
// the status and body.
func call(t *testing.T, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServe: strata serve on a free loopback port prints its URL, serves
// the store's values and takes writes, and exits 0 on SIGTERM, leaving
// the writes in the store.
func TestServe(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("config/db/host", "db1")
	srv := startServe(t, s.dir, "--addr", "127.0.0.1:0")
	if want := "strata: serving " + s.dir + " at http://127.0.0.1:"; !strings.HasPrefix(srv.line, want) {
		t.Fatalf("printed %q, want %q…", srv.line, want)
	}
	c := &http.Client{}
	if code, body := call(t, c, "GET", srv.url+"/v1/values/config/db/host", "", ""); code != 200 || body != "db1" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code, body := call(t, c, "PUT", srv.url+"/v1/values/config/db/port", "", "5432"); code != 200 || !strings.Contains(body, `"commit"`) {
		t.Fatalf("PUT: %d %q", code, body)
	}
	if code, body := call(t, c, "GET", srv.url+"/healthz", "", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := call(t, c, "GET", srv.url+"/metrics", "", ""); code != 200 ||
		!strings.Contains(body, `strata_http_requests_total{code="200",route="PUT /v1/values/{path...}"} 1`) ||
		!strings.Contains(body, "strata_commits_total 1\n") {
		t.Fatalf("metrics: %d %s", code, body)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, srv.stderr)
	}
	for _, l := range lines(srv.stderr.String()) {
		if !strings.Contains(l, "msg=request") || !strings.Contains(l, "remote=127.0.0.1:") {
			t.Errorf("log line %q", l)
		}
	}
	if got := s.ok("get", "config/db/port"); got != "5432" {
		t.Fatalf("after the server: %q", got)
	}
}

// TestServeRefusals: a non-loopback address without --tokens is a usage
// error unless --insecure is given, as are bad flag combinations; a
// missing store is not found; --read-only refuses writes with 403.
func TestServeRefusals(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.fails(1, "serve", "--addr", "127.0.0.1:0")
	s.set("k", "v")
	r := s.fails(2, "serve", "--addr", "0.0.0.0:0")
	if !strings.Contains(r.stderr, "--tokens") || !strings.Contains(r.stderr, "--insecure") {
		t.Errorf("refusal: %q", r.stderr)
	}
	s.fails(2, "serve", "--addr", ":0")
	s.fails(2, "serve", "--addr", "nonsense")
	s.fails(2, "serve", "--tls-cert", "cert.pem")
	s.fails(2, "serve", "--log-format", "xml")
	s.fails(2, "serve", "--max-body", "0")
	bad := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(bad, []byte("secret-token-1 admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.fails(2, "serve", "--tokens", bad); strings.Contains(r.stderr, "secret-token-1") {
		t.Errorf("a bad tokens file's token printed: %q", r.stderr)
	}

	srv := startServe(t, s.dir, "--addr", "0.0.0.0:0", "--insecure")
	port := srv.url[strings.LastIndex(srv.url, ":")+1:]
	if code, body := call(t, &http.Client{}, "GET", "http://127.0.0.1:"+port+"/v1/values/k", "", ""); code != 200 || body != "v" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, srv.stderr)
	}

	srv = startServe(t, s.dir, "--addr", "127.0.0.1:0", "--read-only")
	c := &http.Client{}
	if code, body := call(t, c, "PUT", srv.url+"/v1/values/k", "", "w"); code != 403 || !strings.Contains(body, `"forbidden"`) {
		t.Fatalf("PUT on a read-only server: %d %q", code, body)
	}
	if code, body := call(t, c, "GET", srv.url+"/v1/values/k", "", ""); code != 200 || body != "v" {
		t.Fatalf("GET on a read-only server: %d %q", code, body)
	}
	// A read-only server shares the store with readers.
	if got := s.ok("get", "k"); got != "v" {
		t.Fatalf("get beside a read-only server: %q", got)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, srv.stderr)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "strata test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServeTLSAndTokens: strata serve over HTTPS with a certificate made
// by the test and a tokens file: no token 401, a read token writing 403,
// a branch prefix enforced, and no token, right or wrong, in the JSON
// request log or any answer.
func TestServeTLSAndTokens(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("k", "v")
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	tokens := filepath.Join(dir, "tokens")
	const (
		reader = "rd-2c8b1f0e"
		writer = "wr-91ad4c77"
		team   = "tm-5e60b2d3"
		wrong  = "wrong-0a7e3391"
	)
	if err := os.WriteFile(tokens, []byte(reader+" read\n"+writer+" write\n"+team+" write team/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, s.dir, "--addr", "127.0.0.1:0", "--tokens", tokens,
		"--tls-cert", certFile, "--tls-key", keyFile, "--log-format", "json")
	if !strings.HasPrefix(srv.url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", srv.url)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var bodies []string
	check := func(method, path, token, body string, want int) {
		t.Helper()
		code, b := call(t, c, method, srv.url+path, token, body)
		if code != want {
			t.Fatalf("%s %s: %d %q, want %d", method, path, code, b, want)
		}
		bodies = append(bodies, b)
	}
	check("GET", "/v1/values/k", "", "", 401)
	check("GET", "/v1/values/k", wrong, "", 401)
	check("GET", "/v1/values/k?token="+wrong, "", "", 401)
	check("GET", "/v1/values/k", reader, "", 200)
	check("PUT", "/v1/values/k", reader, "r", 403)
	check("PUT", "/v1/values/k", writer, "w", 200)
	check("PUT", "/v1/values/k", team, "t", 403)
	check("PUT", "/v1/values/k?branch=team/x", team, "t", 200)
	check("GET", "/healthz", "", "", 200)
	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Get("http://" + strings.TrimPrefix(srv.url, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to a TLS server: %d", resp.StatusCode)
		}
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, srv.stderr)
	}
	logs := srv.stderr.String()
	requests := 0
	for _, l := range lines(logs) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if rec["msg"] == "request" {
			requests++
			for _, k := range []string{"method", "path", "status", "bytes", "duration", "remote"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("log line %q lacks %s", l, k)
				}
			}
		}
	}
	if requests != 9 { // every request but the plain-HTTP one
		t.Errorf("%d request lines, want 9:\n%s", requests, logs)
	}
	for _, tok := range []string{reader, writer, team, wrong} {
		if strings.Contains(logs+srv.line+strings.Join(bodies, ""), tok) {
			t.Errorf("token %s printed; stderr:\n%s", tok, logs)
		}
	}
	if got := s.ok("get", "k", "--at", "team/x"); got != "t" {
		t.Fatalf("team/x: %q", got)
	}
}

// The child process of TestServeTwoProcesses: with serveClientURL set,
// the test binary PUTs serveClientN values under serveClientPrefix and
// exits (see testMain).
const (
	serveClientURL    = "STRATA_TEST_SERVE_URL"
	serveClientPrefix = "STRATA_TEST_SERVE_PREFIX"
	serveClientN      = 500
)

// serveClient is the child process: it writes serveClientN values, one
// commit each, through its own HTTP client, and returns the exit code.
func serveClient(url string) int {
	prefix := os.Getenv(serveClientPrefix)
	c := &http.Client{Transport: &http.Transport{}}
	for i := 0; i < serveClientN; i++ {
		req, err := http.NewRequest("PUT", fmt.Sprintf("%s/v1/values/%s/%03d", url, prefix, i), strings.NewReader(prefix+strconv.Itoa(i)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		req.Header.Set("X-Strata-Message", fmt.Sprintf("%s %d", prefix, i))
		resp, err := c.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Fprintf(os.Stderr, "PUT %d: %d %s\n", i, resp.StatusCode, b)
			return 1
		}
	}
	return 0
}

// TestServeTwoProcesses: two processes each make 500 commits through one
// server to one branch: all 1,000 commits and values are there.
func TestServeTwoProcesses(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	srv := startServe(t, s.dir, "--addr", "127.0.0.1:0")
	var wg sync.WaitGroup
	for _, prefix := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), serveClientURL+"="+srv.url, serveClientPrefix+"="+prefix)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("client %s: %v: %s", prefix, err, out)
			}
		}()
	}
	wg.Wait()
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, srv.stderr)
	}
	ctx := context.Background()
	kv, err := strata.Open(ctx, s.dir, strata.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	log, err := kv.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2*serveClientN {
		t.Errorf("%d commits, want %d", len(log), 2*serveClientN)
	}
	snap, err := kv.At(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"a", "b"} {
		for i := 0; i < serveClientN; i++ {
			v, err := snap.Get(ctx, fmt.Sprintf("%s/%03d", prefix, i))
			if err != nil || string(v) != prefix+strconv.Itoa(i) {
				t.Fatalf("%s/%03d: %q %v", prefix, i, v, err)
			}
		}
	}
}

// TestServeGracefulShutdown: SIGTERM while many PUTs are in flight. The
// server exits 0; afterwards every PUT that was answered 200 has its
// commit and value in the store, and every PUT that failed left nothing.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	srv := startServe(t, s.dir, "--addr", "127.0.0.1:0")
	type outcome struct {
		key, value string
		commit     string // "" if the PUT failed
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		acked    = make(chan struct{}, 1000)
		wg       sync.WaitGroup
	)
	big := strings.Repeat("x", 64<<10)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}}
			for i := 0; ; i++ {
				o := outcome{key: fmt.Sprintf("w%02d/%04d", w, i), value: fmt.Sprintf("%d-%d-%s", w, i, big)}
				resp, err := c.Post(srv.url+"/v1/update", "application/json",
					strings.NewReader(fmt.Sprintf(`{"set": {%q: %q}}`, o.key, o.value)))
				if err == nil {
					var ans struct{ Commit string }
					if resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&ans) == nil {
						o.commit = ans.Commit
					}
					resp.Body.Close()
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if o.commit == "" {
					return
				}
				select {
				case acked <- struct{}{}:
				default:
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		<-acked
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, srv.stderr)
	}
	wg.Wait()

	ctx := context.Background()
	kv, err := strata.Open(ctx, s.dir, strata.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	snap, err := kv.At(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := 0, 0
	for _, o := range outcomes {
		v, err := snap.Get(ctx, o.key)
		if o.commit == "" {
			failed++
			if !errors.Is(err, strata.ErrNotFound) {
				t.Errorf("%s: failed PUT left %d bytes, %v", o.key, len(v), err)
			}
			continue
		}
		ok++
		if err != nil || string(v) != o.value {
			t.Errorf("%s: acknowledged in %s, but reads %d bytes, %v", o.key, o.commit, len(v), err)
		}
		if _, err := kv.Commit(ctx, o.commit); err != nil {
			t.Errorf("%s: acknowledged commit %s: %v", o.key, o.commit, err)
		}
	}
	if ok < 50 || failed != 16 {
		t.Fatalf("%d acknowledged, %d failed; want at least 50 and 16", ok, failed)
	}
}

// TestServeLogsCommitGraphFailure: the store's background failures reach
// the server's log. The store holds 127 commits, and the one at height
// 118 is gone; the commit a PUT makes at height 128 queues the
// commit-graph run that would list it, and that run's failure is logged
// (as JSON, with --log-format json) while the PUT itself succeeds.
func TestServeLogsCommitGraphFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	s.set("k", "0")
	var victim strata.Hash
	s.withKV(func(kv *strata.KV) {
		main := kv.Branch("main")
		for {
			h, err := main.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := kv.Commit(ctx, h.String())
			if err != nil {
				t.Fatal(err)
			}
			if c.Height == 118 {
				victim = h
			}
			if c.Height == 127 {
				break
			}
			if _, err := main.Set(ctx, fmt.Sprintf("k%d", c.Height%5), []byte(fmt.Sprint(c.Height))); err != nil {
				t.Fatal(err)
			}
		}
		if err := kv.Backend().(backend.ObjectDeleter).DeleteObjects(ctx, []backend.Hash{victim}); err != nil {
			t.Fatal(err)
		}
	})
	srv := startServe(t, s.dir, "--addr", "127.0.0.1:0", "--log-format", "json")
	if code, body := call(t, &http.Client{}, "PUT", srv.url+"/v1/values/last", "", "v"); code != 200 {
		t.Fatalf("PUT: %d %q", code, body)
	}
	if code := srv.stop(); code != 0 { // Close waits for the run
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, srv.stderr)
	}
	var found bool
	for _, l := range lines(srv.stderr.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if rec["msg"] != "commit-graph run not written" {
			continue
		}
		found = true
		if msg, _ := rec["error"].(string); rec["level"] != "WARN" || !strings.Contains(msg, victim.String()) {
			t.Errorf("record %v: want level WARN and an error naming %s", rec, victim.Short())
		}
	}
	if !found {
		t.Errorf("no record of the failed run; stderr:\n%s", srv.stderr)
	}
}
