package httpstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/stratakv/strata/backend"
)

// Access is what a request to the handler asks to do, for
// HandlerOptions.Authorize.
type Access struct {
	// Write is false for a read.
	Write bool
	// Ref is the ref a write moves or deletes; "" for a write that moves
	// none (storing or deleting objects) and for a read.
	Ref string
	// DeleteObjects is true for a request that deletes objects (garbage
	// collection): the one write that can destroy data without a ref.
	DeleteObjects bool
}

// HandlerOptions configure NewHandler. The zero value lets every request
// read and write and stores objects unchecked.
type HandlerOptions struct {
	// Authorize, if not nil, is called before every request is served; an
	// error wrapping ErrUnauthorized answers 401, one wrapping ErrInvalid
	// 400 (e.g. a ref name the server does not accept), one wrapping
	// backend.ErrReadOnly or ErrForbidden (or any other error) 403.
	Authorize func(r *http.Request, a Access) error
	// Verify, if not nil, computes the hash of an object's data; a put
	// whose object does not hash to its key is refused with 422
	// (ErrCorrupt), so an untrusted client cannot store garbage under a
	// hash. Nil stores objects as given.
	Verify func(data []byte) backend.Hash
	// Heartbeat is the interval of heartbeat frames on an idle watch
	// stream; zero means 15 seconds.
	Heartbeat time.Duration
	// Done, if not nil, ends every watch stream when it is closed, so that
	// a graceful shutdown (http.Server.Shutdown waits for every request)
	// need not wait for watchers: register its closing with
	// http.Server.RegisterOnShutdown. Nil: streams end with their
	// request or when the store closes.
	Done <-chan struct{}
	// Logger receives the cause of every internal error (code "internal",
	// 500), which the client sees only as "internal error": its text may
	// name files, hosts or other internals. Nil discards.
	Logger *slog.Logger
	// FenceIdle is how long the handler keeps a garbage collector's fence
	// that its client neither renews nor uses; zero means
	// DefaultFenceIdle.
	FenceIdle time.Duration
	// MaxFences is the most fences the handler holds at once (each makes
	// every write to the store record its objects); zero means
	// DefaultMaxFences. Beyond it, POST /v1/store/fence answers 429
	// (ErrBusy).
	MaxFences int
}

// handler serves the protocol over one store.
type handler struct {
	s      backend.Store
	opts   HandlerOptions
	mux    *http.ServeMux
	fences serverFences // see fence.go
}

// NewHandler returns an http.Handler that serves s by the protocol of
// docs/PROTOCOL.md, at paths under /v1/store/. It never closes s. opts may
// be nil. The handler is safe for concurrent use.
func NewHandler(s backend.Store, opts *HandlerOptions) http.Handler {
	h := &handler{s: s, mux: http.NewServeMux()}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.Logger == nil {
		h.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if h.opts.Heartbeat <= 0 {
		h.opts.Heartbeat = 15 * time.Second
	}
	// A write that moves a ref is authorized for the ref its name
	// parameter names (refWrite); other requests ignore the parameter.
	read, write, refWrite := Access{}, Access{Write: true}, Access{Write: true, Ref: "name"}
	h.route("GET /v1/store/info", read, h.info)
	h.route("POST /v1/store/has", read, h.has)
	h.route("POST /v1/store/get", read, h.get)
	h.route("POST /v1/store/put", write, h.put)
	h.route("POST /v1/store/delete", Access{Write: true, DeleteObjects: true}, h.deleteObjects)
	h.route("POST /v1/store/fence", Access{Write: true, DeleteObjects: true}, h.beginFence)
	h.route("POST /v1/store/fence/renew", Access{Write: true, DeleteObjects: true}, h.renewFence)
	h.route("POST /v1/store/fence/release", Access{Write: true, DeleteObjects: true}, h.endFence)
	h.route("GET /v1/store/objects", read, h.listObjects)
	h.route("GET /v1/store/ref", read, h.getRef)
	h.route("GET /v1/store/refs", read, h.listRefs)
	h.route("GET /v1/store/refnames", read, h.refNames)
	h.route("POST /v1/store/cas", refWrite, h.cas)
	h.route("POST /v1/store/commit", refWrite, h.commit)
	h.route("POST /v1/store/deleteref", refWrite, h.deleteRef)
	h.route("GET /v1/store/watch", read, h.watch)
	if h.opts.Done != nil {
		go func() { // shutting down: no collector can go on
			<-h.opts.Done
			h.releaseFences()
		}()
	}
	h.mux.HandleFunc("/v1/store/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no such endpoint %s %s", ErrInvalid, r.Method, r.URL.Path), http.StatusNotFound)
	})
	return h.mux
}

// route registers fn, authorized for a; an a.Ref of "name" stands for the
// request's name parameter (the ref a write moves).
func (h *handler) route(pattern string, a Access, fn func(w http.ResponseWriter, r *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		a := a
		if a.Ref == "name" {
			name, err := refName(r)
			if err != nil {
				writeError(w, err, 0)
				return
			}
			a.Ref = name
		}
		if h.opts.Authorize != nil {
			if err := h.opts.Authorize(r, a); err != nil {
				if !errors.Is(err, ErrUnauthorized) && !errors.Is(err, backend.ErrReadOnly) && !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrInvalid) {
					err = fmt.Errorf("%w: %v", ErrForbidden, err)
				}
				writeError(w, err, 0)
				return
			}
		}
		if err := fn(w, r); err != nil {
			writeError(w, h.public(r, err), 0)
		}
	})
}

// public returns err fit for the client. An error the handler made
// itself (see ownError) or one of the protocol's own codes goes out
// whole. An internal error (code "internal") is logged and replaced by a
// bare "internal error" of the same code. An error of a backend sentinel
// (storeCodes) comes from the served store, whose messages may name
// where it keeps its data (a directory, a server's address): it is
// replaced by what the request was about and the sentinel's text alone,
// such as `ref "heads/x": not found`, of the same code.
func (h *handler) public(r *http.Request, err error) error {
	var own ownError
	code, _ := codeOf(err)
	switch {
	case err == nil || errors.As(err, &own):
		return err
	case code == "internal":
		h.opts.Logger.ErrorContext(r.Context(), "store request failed",
			"method", r.Method, "path", r.URL.Path, "err", err.Error())
		return errInternal
	case storeCodes[code]:
		if name := r.URL.Query().Get("name"); name != "" {
			return fmt.Errorf("ref %q: %w", name, codeErrors[code])
		}
		// A damaged or missing object is named: its hash says nothing of
		// where the store keeps it, and tells the operator what to repair.
		if h := objectHash.FindString(err.Error()); h != "" && (code == "corrupt" || code == "not_found") {
			return fmt.Errorf("%s %s: object %s: %w", r.Method, r.URL.Path, h, codeErrors[code])
		}
		return fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, codeErrors[code])
	}
	return err
}

// objectHash finds an object's hash (64 hexadecimal digits) in a served
// store's error message.
var objectHash = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// storeCodes are the codes of the backend sentinels that a served store
// returns, with messages of its own.
var storeCodes = map[string]bool{
	"not_found": true, "conflict": true, "corrupt": true, "closed": true,
	"read_only": true, "bad_fence": true,
}

// ownError marks an error of a backend sentinel that the handler made
// itself, naming nothing of the served store: public passes it on whole.
type ownError struct{ err error }

func (e ownError) Error() string { return e.err.Error() }
func (e ownError) Unwrap() error { return e.err }

// errInternal is what the client sees of an internal error.
var errInternal = errors.New("internal error")

// writeError answers err as JSON with the status of its code (or status,
// if not zero).
func writeError(w http.ResponseWriter, err error, status int) {
	code, st := codeOf(err)
	if status == 0 {
		status = st
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{Error: err.Error(), Code: code})
}

// info is what GET /v1/store/info answers.
type info struct {
	Protocol int  `json:"protocol"`
	List     bool `json:"list"`
	Delete   bool `json:"delete"`
	Watch    bool `json:"watch"`
	Repair   bool `json:"repair"`
	Fence    bool `json:"fence"`
}

func (h *handler) info(w http.ResponseWriter, r *http.Request) error {
	var in info
	in.Protocol = Version
	_, in.List = h.s.(backend.ObjectLister)
	_, in.Delete = h.s.(backend.ObjectDeleter)
	_, in.Watch = h.s.(backend.RefWatcher)
	_, in.Repair = h.s.(backend.RefRepairer)
	_, in.Fence = h.s.(backend.ObjectFencer)
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(in)
}

func (h *handler) has(w http.ResponseWriter, r *http.Request) error {
	hs, err := readHashes(r.Body)
	if err != nil {
		return err
	}
	found, err := h.s.Has(r.Context(), hs)
	if err != nil {
		return err
	}
	out := make([]byte, len(found))
	for i, f := range found {
		if f {
			out[i] = 1
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err = w.Write(out)
	return nil
}

// getChunk is how many objects the handler fetches from its store at a
// time while it streams a get response.
const getChunk = 256

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	hs, err := readHashes(r.Body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var bw *bufio.Writer
	for start := 0; start < len(hs) || start == 0; start += getChunk {
		part := hs[start:min(start+getChunk, len(hs))]
		got, err := backend.GetMany(ctx, h.s, part)
		if bw == nil {
			if err != nil {
				return err // nothing written yet: a plain error response
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			bw = bufio.NewWriterSize(w, 64<<10)
		}
		if err != nil {
			bw.WriteByte(entryError)
			writeErrorFrame(bw, h.public(r, err))
			return bw.Flush()
		}
		for _, b := range got {
			if b == nil {
				bw.WriteByte(entryMissing)
				continue
			}
			bw.WriteByte(entryPresent)
			writeBytes(bw, b)
		}
		if len(hs) == 0 {
			break
		}
	}
	bw.Flush()
	return nil
}

func (h *handler) put(w http.ResponseWriter, r *http.Request) error {
	objs, err := h.readObjects(r)
	if err != nil {
		return err
	}
	if err := h.s.Put(r.Context(), objs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readObjects reads a request's objects and verifies their hashes if the
// options say so.
func (h *handler) readObjects(r *http.Request) ([]backend.Object, error) {
	objs, err := readObjects(r.Body)
	if err != nil {
		return nil, err
	}
	if h.opts.Verify != nil {
		for _, o := range objs {
			if got := h.opts.Verify(o.Data); got != o.Hash {
				return nil, ownError{fmt.Errorf("object %s: data hashes to %s: %w", o.Hash.Short(), got.Short(), backend.ErrCorrupt)}
			}
		}
	}
	return objs, nil
}

func (h *handler) deleteObjects(w http.ResponseWriter, r *http.Request) error {
	d, ok := h.s.(backend.ObjectDeleter)
	if !ok {
		return fmt.Errorf("deleting objects: %w", errors.ErrUnsupported)
	}
	hs, err := readHashes(r.Body)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("fence") {
		return h.deleteFenced(w, r, hs)
	}
	if err := d.DeleteObjects(r.Context(), hs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) listObjects(w http.ResponseWriter, r *http.Request) error {
	l, ok := h.s.(backend.ObjectLister)
	if !ok {
		return fmt.Errorf("listing objects: %w", errors.ErrUnsupported)
	}
	prefix, err := hex.DecodeString(r.URL.Query().Get("prefix"))
	if err != nil || len(prefix) > backend.HashSize {
		return fmt.Errorf("%w: prefix is not hexadecimal bytes of a hash", ErrInvalid)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	bw := bufio.NewWriterSize(w, 64<<10)
	err = l.ListObjects(r.Context(), prefix, func(h backend.Hash) error {
		bw.WriteByte(streamItem)
		_, err := bw.Write(h[:])
		return err
	})
	endStream(bw, h.public(r, err))
	return nil
}

// endStream ends a list stream with its end marker, or an error frame.
func endStream(bw *bufio.Writer, err error) {
	if err != nil {
		bw.WriteByte(streamError)
		writeErrorFrame(bw, err)
	} else {
		bw.WriteByte(streamEnd)
	}
	bw.Flush()
}

// refName returns the request's non-empty name parameter.
func refName(r *http.Request) (string, error) {
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > maxName {
		return "", fmt.Errorf("%w: a ref name of 1 to %d bytes is required", ErrInvalid, maxName)
	}
	return name, nil
}

// hashParam parses the hash parameter key; absent or empty is ZeroHash.
func hashParam(r *http.Request, key string) (backend.Hash, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return backend.ZeroHash, nil
	}
	h, err := backend.ParseHash(v)
	if err != nil {
		return h, fmt.Errorf("parameter %s: %w", key, err)
	}
	return h, nil
}

func (h *handler) getRef(w http.ResponseWriter, r *http.Request) error {
	name, err := refName(r)
	if err != nil {
		return err
	}
	v, err := h.s.GetRef(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(v[:])
	return nil
}

func (h *handler) listRefs(w http.ResponseWriter, r *http.Request) error {
	refs, err := h.s.ListRefs(r.Context(), r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, ref := range refs {
		bw.WriteByte(streamItem)
		writeBytes(bw, []byte(ref.Name))
		bw.Write(ref.Hash[:])
	}
	endStream(bw, nil)
	return nil
}

func (h *handler) refNames(w http.ResponseWriter, r *http.Request) error {
	rr, ok := h.s.(backend.RefRepairer)
	if !ok {
		return fmt.Errorf("listing ref names: %w", errors.ErrUnsupported)
	}
	names, err := rr.RefNames(r.Context(), r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, n := range names {
		bw.WriteByte(streamItem)
		writeBytes(bw, []byte(n))
	}
	endStream(bw, nil)
	return nil
}

// swapParams reads the name, old and new parameters of a swap.
func swapParams(r *http.Request) (name string, old, new backend.Hash, err error) {
	if name, err = refName(r); err != nil {
		return
	}
	if old, err = hashParam(r, "old"); err != nil {
		return
	}
	new, err = hashParam(r, "new")
	return
}

func (h *handler) cas(w http.ResponseWriter, r *http.Request) error {
	name, old, new, err := swapParams(r)
	if err != nil {
		return err
	}
	if err := h.s.CompareAndSwapRef(r.Context(), name, old, new); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) commit(w http.ResponseWriter, r *http.Request) error {
	name, old, new, err := swapParams(r)
	if err != nil {
		return err
	}
	objs, err := h.readObjects(r)
	if err != nil {
		return err
	}
	if err := backend.PutAndSwapRef(r.Context(), h.s, objs, name, old, new); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) deleteRef(w http.ResponseWriter, r *http.Request) error {
	rr, ok := h.s.(backend.RefRepairer)
	if !ok {
		return fmt.Errorf("deleting a ref: %w", errors.ErrUnsupported)
	}
	name, err := refName(r)
	if err != nil {
		return err
	}
	if err := rr.DeleteRef(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// watch streams ref events. When its store's watch ends while the
// request is still on (the store dropped events because this client was
// slow, which closes the store's channel, or the store closed), or when it
// detects a gap in the store's events (an event whose Old is not the New
// of the previous event for that name, as after a lost pub/sub message),
// it ends the stream with an overflow frame: the client must re-read refs.
func (h *handler) watch(w http.ResponseWriter, r *http.Request) error {
	wr, ok := h.s.(backend.RefWatcher)
	if !ok {
		return fmt.Errorf("watching refs: %w", errors.ErrUnsupported)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ch, err := wr.WatchRefs(ctx, r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 16<<10)
	bw.WriteByte(frameReady)
	var n [binary.MaxVarintLen64]byte
	bw.Write(n[:binary.PutUvarint(n[:], uint64(h.opts.Heartbeat.Milliseconds()))])
	if bw.Flush() != nil || rc.Flush() != nil {
		return nil
	}
	last := map[string]backend.Hash{}
	tick := time.NewTicker(h.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.opts.Done:
			return nil
		case <-tick.C:
			bw.WriteByte(frameHeartbeat)
		case ev, ok := <-ch:
			if !ok {
				if ctx.Err() != nil {
					return nil // the request ended
				}
				// The store ended the watch: events may have been
				// dropped, so the client must re-read refs.
				bw.WriteByte(frameOverflow)
				bw.Flush()
				rc.Flush()
				return nil
			}
			if prev, seen := last[ev.Name]; seen && prev != ev.Old {
				bw.WriteByte(frameOverflow)
				bw.Flush()
				rc.Flush()
				return nil
			}
			last[ev.Name] = ev.New
			bw.WriteByte(frameEvent)
			writeBytes(bw, []byte(ev.Name))
			bw.Write(ev.Old[:])
			bw.Write(ev.New[:])
			if len(ch) > 0 {
				continue // flush once the burst is written
			}
		}
		if bw.Flush() != nil || rc.Flush() != nil {
			return nil
		}
	}
}
