package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server process that StartRedis started for a
// benchmark run, on a free loopback port, with its files in a temporary
// directory. (internal/redistest does the same for tests, but needs a
// testing.TB; a command has none.)
type RedisServer struct {
	cmd  *exec.Cmd
	dir  string
	addr string
	done chan struct{}
}

// StartRedis starts redis-server from PATH with persistence off
// ("--save ” --appendonly no", as internal/redistest's default server)
// and waits until it answers PING. It returns an error wrapping
// exec.ErrNotFound when redis-server is not installed.
func StartRedis(ctx context.Context) (*RedisServer, error) {
	prog, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stratabench-redis-*")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &RedisServer{dir: dir, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	s.cmd = exec.Command(prog,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
		"--daemonize", "no", "--save", "", "--appendonly", "no",
		"--protected-mode", "no")
	setProcAttr(s.cmd)
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	c := goredis.NewClient(&goredis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server exited at start: %s", out.String())
		default:
		}
		if err = c.Ping(ctx).Err(); err == nil {
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = s.Close()
			return nil, errors.Join(fmt.Errorf("redis-server on %s did not answer PING", s.addr), err, ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Faults returns the minor page faults the server has taken so far: the
// pages of memory it touched first as it grew (-1 where that cannot be
// read: not on Linux, or the server is gone).
func (s *RedisServer) Faults() int64 { return processMinorFaults(s.cmd.Process.Pid) }

// Addr returns the server's host:port.
func (s *RedisServer) Addr() string { return s.addr }

// Close kills the server, waits for it and removes its directory.
func (s *RedisServer) Close() error {
	_ = s.cmd.Process.Kill()
	<-s.done
	return os.RemoveAll(s.dir)
}
