// Package redis is strata's Redis backend, on go-redis v9. One code path,
// over redis.UniversalClient, serves a single server, a Redis Cluster and
// a master found through Sentinel; many processes may share one store.
//
// Open takes a URL (see ParseURL for the grammar):
//
//	redis://user:password@host:6379/0?prefix=myapp
//	rediss://host:6380?tls_ca=/etc/ssl/redis-ca.pem&prefix=myapp
//	redis://node1:7000?addr=node2:7000&addr=node3:7000&prefix=myapp   (Cluster)
//	redis://sentinel1:26379?addr=sentinel2:26379&master=mymaster        (Sentinel)
//	unix:///run/redis.sock?db=1
//
// NewFromClient wraps a client the caller made and keeps owning. Redact
// hides the password of a URL; no error of this package contains one.
//
// Importing the package silences go-redis's own logger, which writes to
// standard error by itself (several "failed to dial" lines before a call to
// an unreachable server fails): a Store reports failures only through the
// errors it returns. A program that wants go-redis's log back calls
// goredis.SetLogger from main.
//
// # Key layout
//
// Everything a store keeps lives under its prefix P (default "strata";
// letters, digits, '.', '_' and '-', so a key's first ':' ends its prefix
// and stores with different prefixes never share a key):
//
//	P:o:<hash>         string  an object: <hash> is the 32 raw bytes of its
//	                           BLAKE3 hash (a binary key, no hash tag, so a
//	                           Cluster spreads objects over all masters);
//	                           the value is the object's bytes, unchanged
//	P:refs             hash    every ref: field = ref name, value = the 32
//	                           raw bytes of the hash it points at; a deleted
//	                           ref is an absent field, never a zero value
//	P:refs:events      channel pub/sub channel of ref changes (not a key)
//
// Each message on P:refs:events is one successful ref update, 65+n bytes:
// the version byte 0x01, the old hash (32 bytes, all zero if the ref was
// created), the new hash (32 bytes, all zero if it was deleted), and the
// ref name (the remaining n bytes, n > 0). Readers ignore messages of
// another version.
//
// # Operations
//
// Put sends one pipeline of SET commands (on a Cluster, go-redis splits it
// by node) and fails if any of them failed. Get is GET, Has a pipeline of
// EXISTS, GetMany one MGET (a pipeline of GETs on a Cluster), DeleteObjects
// a pipeline of DEL. ListObjects SCANs with a MATCH pattern, on every
// master of a Cluster. GetRef is HGET, ListRefs HGETALL filtered and
// sorted here.
//
// CompareAndSwapRef is one Lua script, run atomically by the server with
// EVALSHA (EVAL when the server does not know it yet): it reads the field,
// compares it with the expected value, sets it with HSET or removes it with
// HDEL, and PUBLISHes the event, so that no watcher ever sees an update
// that did not happen or misses one that did while subscribed.
//
// # Durability and replication
//
// A Store is as durable as the server is configured: a write is
// acknowledged when it is in the server's memory, and survives a crash of
// the server only with appendonly yes and appendfsync always. With wait=N
// in the URL, each successful CompareAndSwapRef then runs WAIT N on the
// same connection and fails with ErrNotReplicated if fewer than N
// replicas acknowledged within wait_timeout (default 5 s). On a single
// master this covers the objects written before the ref too, since a
// master replicates its writes in order; on a Cluster, WAIT runs on the
// master that holds P:refs only, so objects on other masters are not
// waited for.
//
// # Watching
//
// WatchRefs subscribes to P:refs:events, so a watcher sees the updates of
// every process that uses the same prefix. Redis pub/sub delivers at most
// once: events published while the subscription is down (go-redis
// reconnects it by itself) are lost, and consumers that must not miss one
// re-read the refs.
//
// # Errors
//
// Errors name the server address and wrap the sentinels of package
// backend. A call that cannot reach the server wraps ErrUnavailable and
// the underlying network error (for instance syscall.ECONNREFUSED); the
// client redials on later calls, so they work again once the server is
// back. redis.Nil never escapes: a missing object or ref is
// backend.ErrNotFound.
package redis
