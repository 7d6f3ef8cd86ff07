package redis

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
)

// DefaultPrefix is the key prefix of a Store whose URL has no prefix
// parameter.
const DefaultPrefix = "strata"

// DefaultWaitTimeout bounds the WAIT that follows each successful
// CompareAndSwapRef when a URL asks for replicas (wait=N) but sets no
// wait_timeout.
const DefaultWaitTimeout = 5 * time.Second

// maxPrefixLen bounds the length of a key prefix.
const maxPrefixLen = 128

// Config is a parsed strata Redis URL: the go-redis options of one kind of
// client plus what strata itself needs. Exactly one of Options, Cluster and
// Failover is non-nil. ParseURL fills it in; callers may adjust it (pool
// sizes, timeouts, a custom dialer) before passing it to OpenConfig.
type Config struct {
	// Prefix starts every key and channel name of the store (see the
	// package documentation). It is non-empty and consists of ASCII
	// letters, digits, '.', '_' and '-'.
	Prefix string
	// Wait is the number of replicas that must acknowledge each successful
	// CompareAndSwapRef (Redis WAIT); zero means do not wait.
	Wait int
	// WaitTimeout bounds that wait; zero means DefaultWaitTimeout.
	WaitTimeout time.Duration

	// Options configures a client of one server (TCP or Unix socket).
	Options *goredis.Options
	// Cluster configures a Redis Cluster client.
	Cluster *goredis.ClusterOptions
	// Failover configures a client of the master that Redis Sentinel
	// names.
	Failover *goredis.FailoverOptions
}

// Addr describes where the Config points, for messages: the server
// address, or the seed addresses of a cluster or of the sentinels. It never
// contains a password.
func (c *Config) Addr() string {
	switch {
	case c.Cluster != nil:
		return "cluster " + strings.Join(c.Cluster.Addrs, ",")
	case c.Failover != nil:
		// The master name is the user's text: it goes through Redact like
		// the URL it came from ("?master=?password=…" must not show).
		return fmt.Sprintf("sentinel %s master %q", strings.Join(c.Failover.SentinelAddrs, ","), Redact(c.Failover.MasterName))
	case c.Options != nil && c.Options.Network == "unix":
		return "unix " + c.Options.Addr
	case c.Options != nil:
		return c.Options.Addr
	}
	return "(no address)"
}

// newClient returns a new go-redis client for c.
func (c *Config) newClient() (goredis.UniversalClient, error) {
	switch {
	case c.Cluster != nil:
		return goredis.NewClusterClient(c.Cluster), nil
	case c.Failover != nil:
		return goredis.NewFailoverClient(c.Failover), nil
	case c.Options != nil:
		return goredis.NewClient(c.Options), nil
	}
	return nil, fmt.Errorf("%w: redis: the Config sets none of Options, Cluster and Failover", backend.ErrInvalidURL)
}

// strataParams are the query parameters that strata handles itself; all
// others go to go-redis, which rejects the ones it does not know.
var strataParams = []string{"prefix", "wait", "wait_timeout", "cluster", "master", "tls_ca", "tls_cert", "tls_key", "tls_insecure"}

// ParseURL parses a strata Redis URL:
//
//	redis://[user:password@]host[:port][/db][?param=value&...]
//	rediss://...                         the same over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=N&...]
//
// The host defaults to localhost and the port to 6379, as in go-redis.
// Strata's own parameters are:
//
//	prefix=NAME        key prefix (default "strata"): letters, digits, '.', '_', '-'
//	addr=host:port     another seed address (repeatable); makes it a Cluster client,
//	                   or a Sentinel client together with master=
//	cluster=true       a Cluster client even with a single seed address
//	master=NAME        a Sentinel client: host:port and the addr= values are
//	                   sentinels, NAME the monitored master; the userinfo and db
//	                   apply to the master (sentinels without a password only)
//	wait=N             after each successful ref update, WAIT for N replicas
//	wait_timeout=DUR   how long that WAIT may take (Go duration; default 5s)
//	tls_ca=PATH        PEM file of the CAs to trust (rediss only)
//	tls_cert=PATH      PEM client certificate, with tls_key=PATH (rediss only)
//	tls_insecure=true  skip verifying the server certificate (rediss only)
//
// Every other parameter goes to go-redis (ParseURL, or ParseClusterURL for
// a cluster): dial_timeout, read_timeout, pool_size, max_retries and so on,
// with go-redis's grammar. A Cluster URL must not name a database. ParseURL
// reads the tls_* files. The returned Config has ContextTimeoutEnabled set,
// so that contexts bound every command.
//
// A malformed URL, an unknown scheme or parameter, a bad port, database
// number, count or duration return an error wrapping backend.ErrInvalidURL.
// No error ever contains the password: URLs in messages pass through Redact.
func ParseURL(rawURL string) (*Config, error) {
	redacted, hidden := redact(rawURL)
	where := quoteName(redacted)
	scrubSecrets := scrubber(hidden)
	// fail's messages may quote parts of rawURL (a parameter's value, what
	// go-redis found wrong): whatever Redact hides is scrubbed from them.
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", backend.ErrInvalidURL, where, scrubSecrets(fmt.Sprintf(format, args...)))
	}

	if !strings.Contains(rawURL, "://") {
		return nil, fail("no scheme; want redis://, rediss:// or unix://")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL; its detail quotes the offending
		// part, which may be part of a password that was not
		// percent-encoded.
		var ue *url.Error
		if errors.As(err, &ue) && !quotesUserinfo(ue.Err.Error(), rawURL) {
			if strings.Contains(ue.Err.Error(), "userinfo") {
				return nil, fail("%v (percent-encode special characters in the password)", ue.Err)
			}
			return nil, fail("%v", ue.Err)
		}
		return nil, fail("malformed URL (are special characters in the password percent-encoded?)")
	}
	var password string
	userAts := 0
	if u.User != nil {
		password, _ = u.User.Password()
		userAts = 1
	}
	if strings.Count(rawURL, "@") != userAts {
		// A password with an unescaped '/', '?' or '#' ends the userinfo
		// early, and its rest would be read (and quoted) as host or path.
		return nil, fail("'@' outside the user information (percent-encode special characters in the password, '@' as %%40)")
	}
	// scrub also removes the password as url.Parse decoded it from
	// messages that come from go-redis.
	scrubPassword := scrubber(nil)
	if password != "" {
		scrubPassword = scrubber([]string{u.User.String(), password})
	}
	scrub := func(err error) error {
		return fail("%s", scrubPassword(err.Error()))
	}

	switch u.Scheme {
	case "redis", "rediss":
		if err := checkPort(u.Port()); err != nil {
			return nil, fail("%v", err)
		}
	case "unix":
		if u.Host != "" {
			return nil, fail("a unix URL has no host; write unix:///path/to/socket")
		}
	default:
		return nil, fail("unknown scheme %q; want redis, rediss or unix", u.Scheme)
	}
	if u.Fragment != "" {
		return nil, fail("unexpected fragment")
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fail("bad query: %v", err)
	}
	own := make(map[string]string)
	for _, name := range strataParams {
		vs, ok := query[name]
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return nil, fail("parameter %s given %d times", name, len(vs))
		}
		own[name] = vs[0]
		delete(query, name)
	}

	cfg := &Config{Prefix: DefaultPrefix}
	if p, ok := own["prefix"]; ok {
		if err := checkPrefix(p); err != nil {
			return nil, fail("%v", err)
		}
		cfg.Prefix = p
	}
	if w, ok := own["wait"]; ok {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, fail("wait=%q is not a replica count", w)
		}
		cfg.Wait = n
	}
	if w, ok := own["wait_timeout"]; ok {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 {
			return nil, fail("wait_timeout=%q is not a positive duration such as 500ms", w)
		}
		cfg.WaitTimeout = d
	}
	isCluster := false
	if c, ok := own["cluster"]; ok {
		if isCluster, err = strconv.ParseBool(c); err != nil {
			return nil, fail("cluster=%q is not true or false", c)
		}
	}
	master, isFailover := own["master"]
	if isFailover && master == "" {
		return nil, fail("master= names no master")
	}
	addrs := query["addr"]
	if len(addrs) > 0 && !isFailover {
		isCluster = true
	}
	for _, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fail("addr=%q is not host:port", a)
		}
		if err := checkPort(port); err != nil {
			return nil, fail("addr=%q: %v", a, err)
		}
	}
	if u.Scheme == "unix" && (isCluster || isFailover) {
		return nil, fail("a unix URL cannot name a cluster or sentinels")
	}
	if isCluster && isFailover {
		return nil, fail("cluster and master= (Sentinel) exclude each other")
	}

	// go-redis parses everything else and rejects what it does not know.
	rest := *u
	if isFailover {
		delete(query, "addr") // sentinel addresses: handled here, not by go-redis
	}
	rest.RawQuery = query.Encode()
	switch {
	case isCluster:
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, fail("a cluster has only database 0, not %q", p)
		}
		rest.Path = ""
		o, err := goredis.ParseClusterURL(rest.String())
		if err != nil {
			return nil, scrub(err)
		}
		o.ContextTimeoutEnabled = true
		cfg.Cluster = o
	default:
		o, err := goredis.ParseURL(rest.String())
		if err != nil {
			return nil, scrub(err)
		}
		if o.DB < 0 {
			return nil, fail("database number %d is negative", o.DB)
		}
		o.ContextTimeoutEnabled = true
		if isFailover {
			cfg.Failover = failoverOptions(o, master, append([]string{o.Addr}, addrs...))
		} else {
			cfg.Options = o
		}
	}

	if err := cfg.setTLS(u.Scheme == "rediss", own); err != nil {
		return nil, fail("%v", err)
	}
	return cfg, nil
}

// failoverOptions turns the options ParseURL found for one server into
// those of a Sentinel client of master, asking the sentinels at addrs.
func failoverOptions(o *goredis.Options, master string, addrs []string) *goredis.FailoverOptions {
	return &goredis.FailoverOptions{
		MasterName:            master,
		SentinelAddrs:         addrs,
		ClientName:            o.ClientName,
		Protocol:              o.Protocol,
		Username:              o.Username,
		Password:              o.Password,
		DB:                    o.DB,
		MaxRetries:            o.MaxRetries,
		MinRetryBackoff:       o.MinRetryBackoff,
		MaxRetryBackoff:       o.MaxRetryBackoff,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolFIFO:              o.PoolFIFO,
		PoolSize:              o.PoolSize,
		PoolTimeout:           o.PoolTimeout,
		MinIdleConns:          o.MinIdleConns,
		MaxIdleConns:          o.MaxIdleConns,
		MaxActiveConns:        o.MaxActiveConns,
		ConnMaxIdleTime:       o.ConnMaxIdleTime,
		ConnMaxLifetime:       o.ConnMaxLifetime,
		TLSConfig:             o.TLSConfig,
	}
}

// setTLS applies the tls_* parameters to the TLS configuration go-redis
// made for a rediss URL; for a redis or unix URL they are an error.
func (c *Config) setTLS(isTLS bool, own map[string]string) error {
	var given []string
	for _, p := range []string{"tls_ca", "tls_cert", "tls_key", "tls_insecure"} {
		if _, ok := own[p]; ok {
			given = append(given, p)
		}
	}
	if !isTLS {
		if len(given) > 0 {
			return fmt.Errorf("%s needs a rediss:// URL", strings.Join(given, ", "))
		}
		return nil
	}
	var tc **tls.Config
	switch {
	case c.Cluster != nil:
		tc = &c.Cluster.TLSConfig
	case c.Failover != nil:
		tc = &c.Failover.TLSConfig
	default:
		tc = &c.Options.TLSConfig
	}
	if *tc == nil {
		*tc = &tls.Config{}
	}
	conf := *tc
	if conf.MinVersion == 0 {
		conf.MinVersion = tls.VersionTLS12
	}
	if v, ok := own["tls_insecure"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("tls_insecure=%q is not true or false", v)
		}
		conf.InsecureSkipVerify = b
	}
	if path, ok := own["tls_ca"]; ok {
		pem, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("tls_ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls_ca: %s holds no PEM certificate", path)
		}
		conf.RootCAs = pool
	}
	certPath, hasCert := own["tls_cert"]
	keyPath, hasKey := own["tls_key"]
	if hasCert != hasKey {
		return errors.New("tls_cert and tls_key go together")
	}
	if hasCert {
		cert, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return fmt.Errorf("tls_cert, tls_key: %v", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return nil
}

// checkPort accepts an empty port (the default) or a number in 1..65535.
func checkPort(port string) error {
	if port == "" {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// checkPrefix accepts a non-empty prefix of ASCII letters, digits, '.',
// '_' and '-'. Excluding ':' keeps the keys of two prefixes apart (the
// first ':' of a key ends its prefix); excluding '{', '}' and glob
// characters keeps Cluster hash tags and SCAN patterns predictable.
func checkPrefix(p string) error {
	if p == "" {
		return errors.New("prefix is empty")
	}
	if len(p) > maxPrefixLen {
		return fmt.Errorf("prefix is %d bytes long, more than %d", len(p), maxPrefixLen)
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("prefix %q has %q; use letters, digits, '.', '_' and '-'", p, r)
		}
	}
	return nil
}

// Redact returns rawURL with every secret it may hold replaced by "xxxxx",
// for use in messages and logs: the password of its user information, and
// the value of every query parameter whose name mentions a password, secret
// or token. It works on the text alone, never through a URL parser, so it
// also redacts a URL that does not parse: everything between "://" and the
// URL's last '@' (or from the start, if what precedes "://" is not a
// scheme) is taken to be user information, and only a user name before its
// first ':' is kept. A URL with nothing to hide is returned unchanged; the
// result may hold control characters that rawURL held.
func Redact(rawURL string) string {
	out, _ := redact(rawURL)
	return out
}

// redact is Redact, and also returns the parts of rawURL it hid.
func redact(rawURL string) (out string, hidden []string) {
	start := 0
	if i := strings.Index(rawURL, "://"); i >= 0 && isScheme(rawURL[:i]) {
		start = i + len("://")
	}
	out, rest := rawURL[:start], rawURL[start:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user := rest[:at]
		switch i := strings.IndexByte(user, ':'); {
		case i >= 0 && !strings.ContainsAny(user[:i], "/?#"):
			hidden = append(hidden, user[i+1:])
			user = user[:i] + ":xxxxx"
		case strings.ContainsAny(user, "/?#"):
			// The '@' is not in the user information of a well-formed URL:
			// some of what precedes it may be a password that was not
			// percent-encoded.
			hidden = append(hidden, user)
			user = "xxxxx"
		}
		out += user + "@"
		rest = rest[at+1:]
	}
	// Parameters: a name starts rest or follows a '?' or '&'; a secret
	// value runs to the next '&', so that one holding a '?' or '#' is
	// hidden whole.
	for {
		end := strings.IndexAny(rest, "?&")
		tok := rest
		if end >= 0 {
			tok = rest[:end]
		}
		if name, _, ok := strings.Cut(tok, "="); ok && secretParam(name) {
			out += name + "=xxxxx"
			value := rest[len(name)+1:]
			amp := strings.IndexByte(value, '&')
			if amp < 0 {
				return out, append(hidden, value)
			}
			hidden = append(hidden, value[:amp])
			out += "&"
			rest = value[amp+1:]
			continue
		}
		if end < 0 {
			return out + rest, hidden
		}
		out += rest[:end+1]
		rest = rest[end+1:]
	}
}

// scrubber returns a function that replaces, in a message, every spelling
// of the secrets (as written, decoded, and escaped by %q) by "xxxxx".
func scrubber(secrets []string) func(string) string {
	var forms []string
	add := func(s string) {
		if s != "" && s != "xxxxx" {
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		add(s)
		if d, err := url.PathUnescape(s); err == nil {
			add(d)
		}
		if d, err := url.QueryUnescape(s); err == nil {
			add(d)
		}
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
	}
	for _, s := range slices.Clone(forms) {
		q := strconv.Quote(s)
		add(q[1 : len(q)-1])
	}
	if len(forms) == 0 {
		return func(msg string) string { return msg }
	}
	// One pass over the message (a secret is never looked for in what
	// replaced another: a password "x" would otherwise grow each "xxxxx"
	// fivefold per form, without bound), longest form first, so that a
	// secret inside another is not replaced instead of the one that holds
	// it.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	seen := make(map[string]bool, len(forms))
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			pairs = append(pairs, f, "xxxxx")
		}
	}
	return strings.NewReplacer(pairs...).Replace
}

// quotesUserinfo reports whether the message detail of a url.Error quotes
// (in Go syntax, as net/url does) a part of what may be rawURL's user
// information: the text before its last '@'.
func quotesUserinfo(detail, rawURL string) bool {
	at := strings.LastIndexByte(rawURL, '@')
	if at < 0 {
		return false
	}
	userinfo := rawURL[:at]
	for rest := detail; ; {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			return false
		}
		quoted, err := strconv.QuotedPrefix(rest[i:])
		if err != nil {
			return true // cannot tell what it quotes
		}
		if q, err := strconv.Unquote(quoted); err != nil || q != "" && strings.Contains(userinfo, q) {
			return true
		}
		rest = rest[i+len(quoted):]
	}
}

// isScheme reports whether s is a URL scheme: a letter followed by letters,
// digits, '+', '-' and '.'.
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// secretParam reports whether a query parameter of this (raw, possibly
// percent-encoded) name may carry a secret. A name that does not decode
// counts as secret.
func secretParam(name string) bool {
	n, err := url.QueryUnescape(name)
	if err != nil {
		return true
	}
	n = strings.ToLower(n)
	return strings.Contains(n, "pass") || strings.Contains(n, "secret") || strings.Contains(n, "token")
}

// quoteName returns s for a message: as it is, or Go-quoted if it holds
// characters that are not printable (a newline, an escape sequence) or
// spaces at either end.
func quoteName(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}
