package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// shutdownGrace is how long a shutting-down server waits for requests in
// flight before it closes their connections.
const shutdownGrace = 30 * time.Second

type serveFlags struct {
	addr      string
	tokens    string
	tlsCert   string
	tlsKey    string
	readOnly  bool
	insecure  bool
	logFormat string
	maxBody   int64
}

func (a *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the store over HTTP: the JSON API, watch streams and the HTTP store",
		Long: `Serve the store over HTTP until interrupted.

The JSON API is under /v1 (described at /v1/openapi.json), with /healthz
and Prometheus metrics at /metrics. The first line on standard output is
"strata: serving STORE at URL"; a request log goes to standard error,
with the store's own background failures (a commit-graph run not
written; see 'strata commit-graph --help').

--tokens FILE requires a bearer token of every request; each line of the
file is "TOKEN read|write [BRANCH-PREFIX]". Serving on an address other
than loopback without --tokens is refused unless --insecure is given.
--read-only opens the store read-only and refuses every write.
SIGINT or SIGTERM stop the server gracefully: no new requests are taken,
requests in flight (commits included) finish, then the store is closed.`,
		Args: wantArgs(0, 0, ""),
		RunE: action(func(ctx context.Context, _ []string) error { return a.serve(ctx, f) }),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:7070", "the address to listen on, HOST:PORT (port 0: any free port)")
	fl.StringVar(&f.tokens, "tokens", "", "the tokens file: lines TOKEN read|write [BRANCH-PREFIX]")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.BoolVar(&f.readOnly, "read-only", false, "open the store read-only and refuse every write")
	fl.BoolVar(&f.insecure, "insecure", false, "allow a non-loopback address without --tokens")
	fl.StringVar(&f.logFormat, "log-format", "text", "the request log's format: text or json")
	fl.Int64Var(&f.maxBody, "max-body", server.DefaultMaxBody, "the largest request body in bytes (larger: 413)")
	return cmd
}

// loopback reports whether host (of HOST:PORT) is a loopback address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *app) serve(ctx context.Context, f serveFlags) error {
	host, _, err := net.SplitHostPort(f.addr)
	if err != nil {
		return usageError(fmt.Sprintf("--addr %q: want HOST:PORT", f.addr))
	}
	if !loopback(host) && f.tokens == "" && !f.insecure {
		return usageError(fmt.Sprintf("refusing to serve on %s, which is not a loopback address, without --tokens (give --insecure to serve everyone)", f.addr))
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError("--tls-cert and --tls-key go together")
	}
	if f.maxBody <= 0 {
		return usageError("--max-body must be positive")
	}
	var handler slog.Handler
	switch f.logFormat {
	case "text":
		handler = slog.NewTextHandler(os.Stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(os.Stderr, nil)
	default:
		return usageError(fmt.Sprintf("--log-format %q: want text or json", f.logFormat))
	}
	logger := slog.New(handler)
	opts := server.Options{ReadOnly: f.readOnly, Logger: logger, MaxBody: f.maxBody}
	if f.tokens != "" {
		if opts.Tokens, err = auth.Load(f.tokens); err != nil {
			if errors.Is(err, auth.ErrInvalidTokens) {
				return usageError(err.Error())
			}
			return err
		}
	}
	// The store's own background failures (strata.Logger) go to the
	// request log too.
	mode := strata.MustExist()
	if f.readOnly {
		mode = strata.ReadOnly()
	}
	open := func(ctx context.Context) (*strata.KV, error) {
		return a.openWith(ctx, mode, strata.Logger(logger))
	}
	return a.using(ctx, open, func(kv *strata.KV) error {
		ln, err := net.Listen("tcp", f.addr)
		if err != nil {
			return err
		}
		srv := server.New(kv, opts)
		hs := &http.Server{
			Handler:           srv.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
			ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
		}
		hs.RegisterOnShutdown(srv.Drain)
		scheme := "http"
		if f.tlsCert != "" {
			scheme = "https"
		}
		fmt.Fprintf(a.stdout, "strata: serving %s at %s://%s\n", location(a.store), scheme, ln.Addr())
		done := make(chan error, 1)
		go func() {
			if f.tlsCert != "" {
				done <- hs.ServeTLS(ln, f.tlsCert, f.tlsKey)
			} else {
				done <- hs.Serve(ln)
			}
		}()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		err = hs.Shutdown(sctx)
		if err != nil {
			_ = hs.Close()
		}
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	})
}
