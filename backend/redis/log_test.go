package redis_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/internal/redistest"
)

// quietChildVar, when set, makes TestOpenUnreachableIsQuiet the child
// process: it opens the store at the URL in the variable and exits.
const quietChildVar = "STRATA_REDIS_QUIET_CHILD"

// TestOpenUnreachableIsQuiet: opening a store on a server that has gone
// away fails with an error (ErrUnavailable, naming the address and not the
// password), and a program using the package sees nothing on its standard
// error: go-redis's own logger, which printed a "failed to dial" line per
// attempt, is silenced. The Open runs in a child process so that its file
// descriptor 2 can be captured whole.
func TestOpenUnreachableIsQuiet(t *testing.T) {
	if u := os.Getenv(quietChildVar); u != "" {
		_, err := redis.Open(context.Background(), u)
		if !errors.Is(err, redis.ErrUnavailable) {
			os.Stdout.WriteString("CHILD: Open = " + errorString(err) + ", want ErrUnavailable\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("CHILD: " + err.Error() + "\n")
		return
	}
	t.Parallel()
	const pw = "Quiet-S3cret"
	srv := redistest.Start(t, redistest.WithPassword(pw))
	u := srv.URL("quiet")
	srv.Kill() // nothing listens on its port now

	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenUnreachableIsQuiet$", "-test.count=1")
	cmd.Env = append(os.Environ(), quietChildVar+"="+u)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("Open of an unreachable server wrote to standard error:\n%s", stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "CHILD: redis "+srv.Addr()+": open") {
		t.Errorf("the error does not name the address %s: %s", srv.Addr(), out)
	}
	if strings.Contains(out, pw) {
		t.Errorf("the error shows the password: %s", out)
	}
}

func errorString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
