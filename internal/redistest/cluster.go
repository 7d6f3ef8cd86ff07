package redistest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of masters without replicas, started by
// StartCluster.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts n redis-server processes with cluster mode on (n must
// be at least 3), joins them with "redis-cli --cluster create", waits until
// every node reports cluster_state:ok, and kills them when the test ends.
// Options apply to every node; WithArgs is the useful one (a password or
// TLS would also need redis-cli's flags, which StartCluster does not pass).
func StartCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	lookPath(t, "redis-server")
	cli := lookPath(t, "redis-cli")
	if n < 3 {
		t.Fatalf("redistest: a cluster needs at least 3 masters, not %d", n)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	o.cluster = true
	c := &Cluster{}
	root := t.TempDir()
	for i := range n {
		dir := filepath.Join(root, "node"+strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		c.Nodes = append(c.Nodes, start(t, "cluster node "+strconv.Itoa(i), dir, o))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}

	deadline := time.Now().Add(startTimeout)
	for _, node := range c.Nodes {
		for {
			info, err := node.Do("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ok within %v: %v\n%s", node.Addr(), startTimeout, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c
}

// Addrs returns the addresses of the nodes.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL returns a strata Redis URL for the cluster, naming every node, with
// the given key prefix (none if empty).
func (c *Cluster) URL(prefix string) string {
	q := url.Values{}
	for _, a := range c.Addrs()[1:] {
		q.Add("addr", a)
	}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	u := url.URL{Scheme: "redis", Host: c.Nodes[0].Addr(), RawQuery: q.Encode()}
	return u.String()
}
