// Package redistest starts throwaway redis-server processes for tests: a
// single server, a server with a replica, a Sentinel, or a Redis Cluster,
// each on free loopback ports with its data in t.TempDir(), stopped when
// the test ends.
//
// Tests never use a Redis that happens to run on the machine (port 6379 or
// any other). When redis-server (or, for a cluster, redis-cli) is not on
// PATH, Start skips the test with a loud message, or fails it if the
// environment variable STRATA_TEST_REDIS is "require", as CI sets it.
package redistest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireVar names the environment variable that turns a missing
// redis-server from a skip into a failure when set to "require".
const RequireVar = "STRATA_TEST_REDIS"

// startTimeout bounds the wait for a server to answer PING.
const startTimeout = 15 * time.Second

// Option configures a server that Start starts.
type Option func(*options)

type options struct {
	aof       bool
	user      string
	password  string
	tls       bool
	replicaOf *Server
	args      []string
	cluster   bool
	// sentinelOf and master make the server a Sentinel monitoring
	// sentinelOf under the name master.
	sentinelOf *Server
	master     string
}

// WithAOF turns on the append-only file with appendfsync always, so that
// every write the server acknowledged survives a SIGKILL and Restart.
func WithAOF() Option { return func(o *options) { o.aof = true } }

// WithPassword makes the default user require password (requirepass).
func WithPassword(password string) Option {
	return func(o *options) { o.user, o.password = "", password }
}

// WithUser creates the ACL user user with password and every permission,
// and disables the default user, so that every client must log in as user.
func WithUser(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithTLS makes the server speak TLS only, with a certificate for
// 127.0.0.1 and localhost signed by a CA that the test generates; see
// Server.TLS. Client certificates are optional.
func WithTLS() Option { return func(o *options) { o.tls = true } }

// WithReplicaOf makes the server a replica of primary (which must not use
// TLS or a password).
func WithReplicaOf(primary *Server) Option { return func(o *options) { o.replicaOf = primary } }

// WithArgs appends command-line arguments for redis-server.
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Server is one redis-server process started by Start. Its methods may be
// called from the test's goroutine only.
type Server struct {
	t    testing.TB
	name string
	dir  string
	port int
	args []string
	opts options
	tls  *TLSFiles

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// lookPath returns the path of the program name, or skips or fails t.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("\n\n*** %s NOT FOUND ON PATH: THE REDIS TESTS DID NOT RUN ***\n"+
		"*** install it (Debian: apt-get install redis-server) or set %s=require to fail instead ***\n", name, RequireVar)
	if os.Getenv(RequireVar) == "require" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts a redis-server on a free loopback port, with "--save ”
// --appendonly no" unless WithAOF is given, waits until it answers PING,
// and kills it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	lookPath(t, "redis-server")
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return start(t, "redis", t.TempDir(), o)
}

func start(t testing.TB, name, dir string, o options) *Server {
	t.Helper()
	s := &Server{t: t, name: name, dir: dir, opts: o}
	if o.tls {
		s.tls = writeTLSFiles(t, dir)
	}
	t.Cleanup(s.stop)
	var lastErr error
	for range 5 { // another process may take the port between the probe and the start
		s.port = freePort(t, o.cluster)
		s.args = s.buildArgs()
		if lastErr = s.launch(); lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "in use") {
			break
		}
	}
	t.Fatalf("redistest: starting %s: %v", name, lastErr)
	return nil
}

// buildArgs returns the command line for the options and port.
func (s *Server) buildArgs() []string {
	o := s.opts
	if o.sentinelOf != nil {
		return s.sentinelArgs()
	}
	args := []string{
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
		"--daemonize", "no",
		"--save", "",
		"--protected-mode", "no",
		// A replica's first sync would otherwise wait 5 s for more replicas.
		"--repl-diskless-sync-delay", "0",
	}
	if s.tls != nil {
		args = append(args,
			"--port", "0",
			"--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", s.tls.ServerCert,
			"--tls-key-file", s.tls.ServerKey,
			"--tls-ca-cert-file", s.tls.CA,
			"--tls-auth-clients", "optional")
	} else {
		args = append(args, "--port", strconv.Itoa(s.port))
	}
	if o.aof {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	switch {
	case o.user != "":
		args = append(args, "--user", "default", "off",
			"--user", o.user, "on", ">"+o.password, "~*", "&*", "+@all")
	case o.password != "":
		args = append(args, "--requirepass", o.password)
	}
	if o.replicaOf != nil {
		args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(o.replicaOf.port))
	}
	if o.cluster {
		args = append(args, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(s.dir, "nodes.conf"),
			"--cluster-node-timeout", "5000")
	}
	return append(args, o.args...)
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch() error {
	return s.launchProgram("redis-server", s.args)
}

func (s *Server) launchProgram(program string, args []string) error {
	cmd := exec.Command(program, args...)
	cmd.Dir = s.dir
	setProcAttr(cmd)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("%s exited at start: %s\n%s", program, strings.TrimSpace(stderr.String()), s.logTail())
		default:
		}
		_, err := s.Do("PING")
		if err == nil || strings.HasPrefix(err.Error(), "NOAUTH") {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("%s on port %d did not answer PING within %v: %v\n%s", program, s.port, startTimeout, err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logTail returns the end of the server's log, for messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "log:\n" + string(b)
}

// stop kills the server at the end of the test.
func (s *Server) stop() { s.Kill() }

// Kill sends SIGKILL to the server and waits for it to exit, as a crash
// would stop it. It does nothing if the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again after Kill, on the same port, with the
// same directory and so the same append-only file, and waits until it
// answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restarting %s: %v", s.name, err)
	}
}

// Addr returns the server's address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port.
func (s *Server) Port() int { return s.port }

// Dir returns the server's working directory, which holds its log and
// append-only file.
func (s *Server) Dir() string { return s.dir }

// TLS returns the certificate files of a server started WithTLS, or nil.
func (s *Server) TLS() *TLSFiles { return s.tls }

// URL returns a strata Redis URL for the server with the given key prefix
// (none if empty), including the credentials and, for TLS, the CA file.
func (s *Server) URL(prefix string) string {
	u := url.URL{Scheme: "redis", Host: s.Addr()}
	if s.opts.password != "" {
		u.User = url.UserPassword(s.opts.user, s.opts.password)
	}
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if s.tls != nil {
		u.Scheme = "rediss"
		q.Set("tls_ca", s.tls.CA)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Do sends one command to the server on a new connection, logging in
// first if the server has a password, and returns the reply: a simple or
// bulk string, an integer in decimal, or the elements of an array one per
// line. An error reply is returned as an error with the server's text.
func (s *Server) Do(args ...string) (string, error) {
	conn, err := s.dial()
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(conn)
	if s.opts.password != "" {
		auth := []string{"AUTH", s.opts.password}
		if s.opts.user != "" {
			auth = []string{"AUTH", s.opts.user, s.opts.password}
		}
		if _, err := roundTrip(conn, rd, auth); err != nil {
			return "", err
		}
	}
	return roundTrip(conn, rd, args)
}

func (s *Server) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: time.Second}
	if s.tls == nil {
		return d.Dial("tcp", s.Addr())
	}
	conf, err := s.tls.ClientConfig()
	if err != nil {
		return nil, err
	}
	return tls.DialWithDialer(&d, "tcp", s.Addr(), conf)
}

// roundTrip writes one command and reads its reply.
func roundTrip(conn net.Conn, rd *bufio.Reader, args []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(rd)
}

// readReply reads one RESP2 reply.
func readReply(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad array length %q", line)
		}
		var elems []string
		for range n {
			e, err := readReply(rd)
			if err != nil {
				return "", err
			}
			elems = append(elems, e)
		}
		return strings.Join(elems, "\n"), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// freePort returns a loopback TCP port that is free now; for a cluster
// node, the bus port (port+10000) is free too.
func freePort(t testing.TB, withBus bool) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port == 6379 {
			_ = l.Close()
			continue
		}
		if !withBus {
			_ = l.Close()
			return port
		}
		if port+10000 > 65535 {
			_ = l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		_ = l.Close()
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port
	}
	t.Fatal("redistest: found no free port pair for a cluster node")
	return 0
}
