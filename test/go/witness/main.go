// witness: a C2SP tlog-witness (https://c2sp.org/tlog-witness) for chainlog's
// tests (test/witness.test.ts), on Go's golang.org/x/mod/sumdb/note and
// .../tlog alone. It serves POST /add-checkpoint and keeps, per origin, the
// last checkpoint it cosigned:
//   - the checkpoint must be signed by the key it knows for its origin
//     (404 for an unknown origin, 403 for another key);
//   - "old" must be the size it last cosigned, else 409 with that size, so a
//     client that forgot, and a log rolled back, are told where it stands;
//   - the consistency proof from its last cosigned tree to the new one must
//     hold (tlog.CheckTree), else 422; a smaller size is 400;
//   - then it cosigns (C2SP tlog-cosignature/v1, type 0x04) and answers
//     the signature line.
//
// Usage: witness -name <name> -listen 127.0.0.1:0 -vkey-out <file> -log <vkey file>...
// It prints "listening <address>" once it accepts connections.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const algCosignatureV1 = 0x04

// cosigner signs cosignature/v1 statements; note.Sign puts them on a line.
type cosigner struct {
	name string
	priv ed25519.PrivateKey
	now  func() time.Time
}

func keyHash(name string, alg byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func (c *cosigner) Name() string { return c.name }
func (c *cosigner) KeyHash() uint32 {
	return keyHash(c.name, algCosignatureV1, c.priv.Public().(ed25519.PublicKey))
}
func (c *cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.now().Unix())
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	out := make([]byte, 8, 8+ed25519.SignatureSize)
	binary.BigEndian.PutUint64(out, t)
	return append(out, ed25519.Sign(c.priv, signed)...), nil
}

func (c *cosigner) vkey() string {
	pub := c.priv.Public().(ed25519.PublicKey)
	return fmt.Sprintf("%s+%08x+%s", c.name, c.KeyHash(), base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

type tree struct {
	size int64
	root tlog.Hash
}

type witness struct {
	mu     sync.Mutex
	logs   map[string]note.Verifier // origin → the log's key
	latest map[string]tree          // origin → last cosigned tree
	signer *cosigner
}

type httpError struct {
	status int
	msg    string
	body   string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...interface{}) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// parseBody splits an add-checkpoint body: "old <size>", proof lines, a blank line, the checkpoint.
func parseBody(body []byte) (int64, tlog.TreeProof, []byte, error) {
	i := bytes.Index(body, []byte("\n\n"))
	if i < 0 {
		return 0, nil, nil, fail(400, "no blank line before the checkpoint")
	}
	lines := strings.Split(string(body[:i]), "\n")
	if !strings.HasPrefix(lines[0], "old ") {
		return 0, nil, nil, fail(400, "the first line must be old <size>")
	}
	old, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
	if err != nil || old < 0 {
		return 0, nil, nil, fail(400, "bad old size")
	}
	var proof tlog.TreeProof
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != tlog.HashSize {
			return 0, nil, nil, fail(400, "bad proof line")
		}
		var hash tlog.Hash
		copy(hash[:], h)
		proof = append(proof, hash)
	}
	return old, proof, body[i+2:], nil
}

func parseCheckpoint(text string) (string, int64, tlog.Hash, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", 0, tlog.Hash{}, fail(400, "a checkpoint has three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return "", 0, tlog.Hash{}, fail(400, "bad checkpoint size")
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return "", 0, tlog.Hash{}, fail(400, "bad checkpoint root")
	}
	return lines[0], size, root, nil
}

func (w *witness) add(body []byte) ([]byte, error) {
	old, proof, msg, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	// The origin is the first line of the note; its key must be known before anything is verified.
	origin := string(msg[:bytes.IndexByte(append(msg, '\n'), '\n')])
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.logs[origin]
	if !ok {
		return nil, fail(404, "unknown origin %q", origin)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, fail(403, "the checkpoint is not signed by the key of %s: %v", origin, err)
		}
		return nil, fail(400, "bad note: %v", err)
	}
	name, size, root, err := parseCheckpoint(n.Text)
	if err != nil {
		return nil, err
	}
	if name != origin {
		return nil, fail(400, "origin mismatch")
	}
	last := w.latest[origin]
	if old != last.size {
		return nil, &httpError{status: 409, msg: fmt.Sprintf("old %d is not the size I cosigned, %d", old, last.size), body: fmt.Sprintf("%d\n", last.size)}
	}
	if size < old {
		return nil, fail(400, "the checkpoint's size %d is below old %d", size, old)
	}
	switch {
	case old == 0:
		if len(proof) != 0 {
			return nil, fail(422, "a proof from the empty tree must be empty")
		}
	case size == old:
		if len(proof) != 0 || root != last.root {
			return nil, fail(422, "another root at the size I cosigned")
		}
	default:
		if err := tlog.CheckTree(proof, size, root, old, last.root); err != nil {
			return nil, fail(422, "the consistency proof does not hold: %v", err)
		}
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, err
	}
	w.latest[origin] = tree{size, root}
	// The answer is the cosignature line alone: the signed note minus its text and blank line.
	return signed[len(n.Text)+1:], nil
}

func main() {
	name := flag.String("name", "witness.example/w1", "the witness's key name")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	vkeyOut := flag.String("vkey-out", "", "file to write the witness's verifier key to")
	var logKeys []string
	flag.Func("log", "a log's verifier key file (repeatable)", func(s string) error { logKeys = append(logKeys, s); return nil })
	flag.Parse()

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	w := &witness{logs: map[string]note.Verifier{}, latest: map[string]tree{}, signer: &cosigner{name: *name, priv: priv, now: time.Now}}
	for _, f := range logKeys {
		text, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		v, err := note.NewVerifier(strings.TrimSpace(string(text)))
		if err != nil {
			panic(fmt.Sprintf("%s: %v", f, err))
		}
		w.logs[v.Name()] = v
	}
	if *vkeyOut != "" {
		if err := os.WriteFile(*vkeyOut, []byte(w.signer.vkey()+"\n"), 0o644); err != nil {
			panic(err)
		}
	}
	http.HandleFunc("/add-checkpoint", func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(rw, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(rw, err.Error(), 400)
			return
		}
		sig, err := w.add(body)
		if err != nil {
			var he *httpError
			if errors.As(err, &he) {
				if he.status == 409 {
					rw.Header().Set("Content-Type", "text/x.tlog.size")
					rw.WriteHeader(409)
					io.WriteString(rw, he.body)
					return
				}
				http.Error(rw, he.msg, he.status)
				return
			}
			http.Error(rw, err.Error(), 500)
			return
		}
		rw.Write(sig)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	if err := http.Serve(ln, nil); err != nil {
		panic(err)
	}
}
