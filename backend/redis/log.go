package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// quietLogger is the go-redis logger this package installs: it drops every
// message. go-redis logs to standard error on its own (for example four
// "failed to dial" lines before a call that cannot reach the server fails),
// and what it logs is either repeated by the error the call returns, which
// names the server without its password, or not actionable by a caller.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// Importing this package silences go-redis's process-wide logger, so that
// the errors a Store returns are the only report of a failure. A program
// that wants go-redis's log lines back calls goredis.SetLogger after its
// imports are initialised (from main, say).
func init() { goredis.SetLogger(quietLogger{}) }
