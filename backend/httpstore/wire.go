package httpstore

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/stratakv/strata/backend"
)

// Version is the protocol version, the "v1" in every path.
const Version = 1

// Limits of one request (see docs/PROTOCOL.md). The client splits larger
// batches; the server refuses requests beyond them with 413.
const (
	// MaxBatch is the most hashes or objects in one request.
	MaxBatch = 10000
	// MaxBody is the most bytes of one request body that carries objects.
	MaxBody = 256 << 20
	// MaxObject is the largest object the protocol carries.
	MaxObject = MaxBody - 64
	// chunkBytes is the size at which the client starts a new put request.
	chunkBytes = 32 << 20
	// maxName is the longest ref name the protocol carries.
	maxName = 4096
)

// Frame types of the watch stream.
const (
	frameReady     = 'R' // the subscription is in place
	frameEvent     = 'E' // a ref moved: name, old, new
	frameHeartbeat = 'H' // nothing happened; the stream is alive
	frameOverflow  = 'O' // the client fell behind; the stream ends
)

// Entry status bytes of a get response and end markers of list streams.
const (
	entryMissing = 0
	entryPresent = 1
	entryError   = 2 // followed by a length-prefixed JSON error; the stream ends
	streamItem   = 'h'
	streamEnd    = '.'
	streamError  = '!'
)

// errorBody is the JSON body of every error response, and of an error
// frame inside a stream.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Error codes and the sentinels they stand for.
var codeErrors = map[string]error{
	"not_found":    backend.ErrNotFound,
	"conflict":     backend.ErrConflict,
	"corrupt":      backend.ErrCorrupt,
	"read_only":    backend.ErrReadOnly,
	"closed":       backend.ErrClosed,
	"invalid_hash": backend.ErrInvalidHash,
	"unauthorized": ErrUnauthorized,
	"forbidden":    ErrForbidden,
	"unsupported":  errors.ErrUnsupported,
	"too_large":    ErrTooLarge,
	"bad_fence":    backend.ErrBadFence,
	"busy":         ErrBusy,
	"invalid":      ErrInvalid,
}

// codeOf returns the error code and HTTP status for err.
func codeOf(err error) (string, int) {
	switch {
	case errors.Is(err, backend.ErrBadFence):
		return "bad_fence", 409
	case errors.Is(err, backend.ErrNotFound):
		return "not_found", 404
	case errors.Is(err, backend.ErrConflict):
		return "conflict", 409
	case errors.Is(err, backend.ErrCorrupt):
		return "corrupt", 422
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized", 401
	case errors.Is(err, ErrForbidden):
		return "forbidden", 403
	case errors.Is(err, backend.ErrReadOnly):
		return "read_only", 403
	case errors.Is(err, backend.ErrClosed):
		return "closed", 503
	case errors.Is(err, backend.ErrInvalidHash):
		return "invalid_hash", 400
	case errors.Is(err, ErrTooLarge):
		return "too_large", 413
	case errors.Is(err, ErrBusy):
		return "busy", 429
	case errors.Is(err, errors.ErrUnsupported):
		return "unsupported", 501
	case errors.Is(err, ErrInvalid):
		return "invalid", 400
	}
	return "internal", 500
}

// writeHashes writes hs, 32 bytes each.
func writeHashes(w io.Writer, hs []backend.Hash) error {
	for _, h := range hs {
		if _, err := w.Write(h[:]); err != nil {
			return err
		}
	}
	return nil
}

// readHashes reads a body of whole hashes, at most MaxBatch of them.
func readHashes(r io.Reader) ([]backend.Hash, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBatch*backend.HashSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBatch*backend.HashSize {
		return nil, fmt.Errorf("more than %d hashes: %w", MaxBatch, ErrTooLarge)
	}
	if len(b)%backend.HashSize != 0 {
		return nil, fmt.Errorf("%w: body of %d bytes is not a list of %d-byte hashes", ErrInvalid, len(b), backend.HashSize)
	}
	hs := make([]backend.Hash, len(b)/backend.HashSize)
	for i := range hs {
		copy(hs[i][:], b[i*backend.HashSize:])
	}
	return hs, nil
}

// writeObject writes one object: hash, uvarint length, data.
func writeObject(w *bufio.Writer, o backend.Object) error {
	w.Write(o.Hash[:])
	writeBytes(w, o.Data)
	return nil
}

// writeBytes writes a uvarint length and b.
func writeBytes(w *bufio.Writer, b []byte) {
	var n [binary.MaxVarintLen64]byte
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	w.Write(b)
}

// readChunk is the most readBytes allocates before the bytes it
// allocates for have arrived.
const readChunk = 1 << 20

// readBytes reads a uvarint length, at most limit, and that many bytes.
// It allocates as the bytes arrive (at most readChunk, then doubling once
// what it allocated has arrived), not as the length claims, so that a
// short body claiming a large field cannot make it allocate much more than
// was sent.
func readBytes(r *bufio.Reader, limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, unexpected(err)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("a field of %d bytes: %w", n, ErrTooLarge)
	}
	b := make([]byte, 0, min(int(n), readChunk))
	for len(b) < int(n) {
		if len(b) == cap(b) { // the bytes so far arrived: double
			b = append(make([]byte, 0, min(int(n), 2*cap(b))), b...)
		}
		start := len(b)
		b = b[:cap(b)]
		if _, err := io.ReadFull(r, b[start:]); err != nil {
			return nil, unexpected(err)
		}
	}
	return b, nil
}

// readHash reads 32 bytes.
func readHash(r *bufio.Reader) (backend.Hash, error) {
	var h backend.Hash
	_, err := io.ReadFull(r, h[:])
	return h, unexpected(err)
}

// unexpected turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readObjects reads a body of objects, at most MaxBatch of them and
// MaxBody bytes in all.
func readObjects(r io.Reader) ([]backend.Object, error) {
	return readObjectsUpTo(r, MaxBody)
}

// readObjectsUpTo is readObjects with a cap of maxBody bytes. A body
// longer than the cap is ErrTooLarge, also when the cap cuts an object
// short or falls between two objects: only a body that ends within the
// cap can be malformed.
func readObjectsUpTo(r io.Reader, maxBody int) ([]backend.Object, error) {
	lr := &io.LimitedReader{R: r, N: int64(maxBody) + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	tooLarge := func() error { return fmt.Errorf("a body over %d bytes: %w", maxBody, ErrTooLarge) }
	var objs []backend.Object
	total := 0
	for {
		if _, err := br.Peek(1); err == io.EOF {
			if lr.N == 0 { // the cap ended the body, not the client
				return nil, tooLarge()
			}
			return objs, nil
		}
		if len(objs) == MaxBatch {
			return nil, fmt.Errorf("more than %d objects: %w", MaxBatch, ErrTooLarge)
		}
		h, err := readHash(br)
		if err != nil {
			if lr.N == 0 {
				return nil, tooLarge()
			}
			return nil, fmt.Errorf("%w: object %d: %v", ErrInvalid, len(objs), err)
		}
		data, err := readBytes(br, MaxObject)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, fmt.Errorf("object %s: %w", h.Short(), err)
			}
			if lr.N == 0 {
				return nil, fmt.Errorf("object %s: %w", h.Short(), tooLarge())
			}
			return nil, fmt.Errorf("%w: object %s: %v", ErrInvalid, h.Short(), err)
		}
		total += backend.HashSize + len(data)
		if total > maxBody {
			return nil, tooLarge()
		}
		objs = append(objs, backend.Object{Hash: h, Data: data})
	}
}

// writeErrorFrame writes err as a length-prefixed JSON error body.
func writeErrorFrame(w *bufio.Writer, err error) {
	code, _ := codeOf(err)
	b, _ := json.Marshal(errorBody{Error: err.Error(), Code: code})
	writeBytes(w, b)
}

// readErrorFrame reads what writeErrorFrame wrote.
func readErrorFrame(r *bufio.Reader) errorBody {
	b, err := readBytes(r, 1<<20)
	var e errorBody
	if err != nil || json.Unmarshal(b, &e) != nil {
		return errorBody{Error: "unreadable error from the server", Code: "internal"}
	}
	return e
}
