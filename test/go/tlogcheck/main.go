// tlogcheck: the other side of chainlog's interop test (test/tree-interop.test.ts).
// It reads one JSON request on stdin and answers one JSON object on stdout,
// using only Go's golang.org/x/mod/sumdb/note and .../tlog, the reference
// implementations of signed notes and RFC 6962 tree proofs:
//   - it opens notes with note.Open and the verifier keys given;
//   - it checks inclusion proofs with tlog.CheckRecord and consistency proofs
//     with tlog.CheckTree;
//   - it computes tlog.TreeHash for sizes over the record hashes given;
//   - it makes its own proofs (tlog.ProveRecord, tlog.ProveTree) and a note
//     signed with a key of its own (note.GenerateKey, note.Sign), for chainlog
//     to check in the other direction.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Leaf  tlog.Hash   `json:"leafHash"`
	Proof []tlog.Hash `json:"proof"`
	Root  tlog.Hash   `json:"root"`
}

type consistency struct {
	From    int64       `json:"from"`
	To      int64       `json:"to"`
	Proof   []tlog.Hash `json:"proof"`
	OldRoot tlog.Hash   `json:"oldRoot"`
	NewRoot tlog.Hash   `json:"newRoot"`
}

type request struct {
	VerifierKeys []string      `json:"verifierKeys"`
	Notes        []string      `json:"notes"`
	Records      []string      `json:"records"`
	Sizes        []int64       `json:"sizes"`
	Inclusion    []inclusion   `json:"inclusion"`
	Consistency  []consistency `json:"consistency"`
	Prove        []struct {
		Index int64 `json:"index"`
		Size  int64 `json:"size"`
	} `json:"prove"`
	ProveTree []struct {
		From int64 `json:"from"`
		To   int64 `json:"to"`
	} `json:"proveTree"`
	Sign *struct {
		Origin string `json:"origin"`
		Text   string `json:"text"`
	} `json:"sign"`
}

type opened struct {
	OK      bool     `json:"ok"`
	Error   string   `json:"error,omitempty"`
	Text    string   `json:"text,omitempty"`
	Signers []string `json:"signers,omitempty"`
	Unknown []string `json:"unknown,omitempty"`
}

type response struct {
	Notes       []opened            `json:"notes"`
	Roots       map[int64]tlog.Hash `json:"roots"`
	Inclusion   []string            `json:"inclusion"`
	Consistency []string            `json:"consistency"`
	Proofs      [][]tlog.Hash       `json:"proofs"`
	TreeProofs  [][]tlog.Hash       `json:"treeProofs"`
	Signed      *struct {
		Vkey string `json:"vkey"`
		Note string `json:"note"`
	} `json:"signed,omitempty"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlogcheck:", err)
	os.Exit(2)
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(err)
	}
	var verifiers []note.Verifier
	for _, k := range req.VerifierKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			fail(fmt.Errorf("verifier key %q: %v", k, err))
		}
		verifiers = append(verifiers, v)
	}
	resp := response{Roots: map[int64]tlog.Hash{}, Notes: []opened{}, Inclusion: []string{}, Consistency: []string{}, Proofs: [][]tlog.Hash{}, TreeProofs: [][]tlog.Hash{}}
	for _, msg := range req.Notes {
		n, err := note.Open([]byte(msg), note.VerifierList(verifiers...))
		o := opened{OK: err == nil, Error: errText(err)}
		if err == nil {
			o.Text = n.Text
			for _, s := range n.Sigs {
				o.Signers = append(o.Signers, s.Name)
			}
			for _, s := range n.UnverifiedSigs {
				o.Unknown = append(o.Unknown, s.Name)
			}
		}
		resp.Notes = append(resp.Notes, o)
	}

	// The stored hashes of the tree over the records, as a tlog server keeps them.
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, r := range req.Records {
		data, err := hex.DecodeString(r)
		if err != nil || len(data) != 32 {
			fail(fmt.Errorf("record %d: not 64 hex characters", i))
		}
		hashes, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			fail(err)
		}
		stored = append(stored, hashes...)
	}
	for _, n := range req.Sizes {
		h, err := tlog.TreeHash(n, reader)
		if err != nil {
			fail(err)
		}
		resp.Roots[n] = h
	}
	for _, c := range req.Inclusion {
		resp.Inclusion = append(resp.Inclusion, errText(tlog.CheckRecord(tlog.RecordProof(c.Proof), c.Size, c.Root, c.Index, c.Leaf)))
	}
	for _, c := range req.Consistency {
		resp.Consistency = append(resp.Consistency, errText(tlog.CheckTree(tlog.TreeProof(c.Proof), c.To, c.NewRoot, c.From, c.OldRoot)))
	}
	for _, p := range req.Prove {
		proof, err := tlog.ProveRecord(p.Size, p.Index, reader)
		if err != nil {
			fail(err)
		}
		resp.Proofs = append(resp.Proofs, proof)
	}
	for _, p := range req.ProveTree {
		proof, err := tlog.ProveTree(p.To, p.From, reader)
		if err != nil {
			fail(err)
		}
		resp.TreeProofs = append(resp.TreeProofs, proof)
	}
	if req.Sign != nil {
		skey, vkey, err := note.GenerateKey(rand.Reader, req.Sign.Origin)
		if err != nil {
			fail(err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			fail(err)
		}
		msg, err := note.Sign(&note.Note{Text: req.Sign.Text}, signer)
		if err != nil {
			fail(err)
		}
		resp.Signed = &struct {
			Vkey string `json:"vkey"`
			Note string `json:"note"`
		}{vkey, string(msg)}
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fail(err)
	}
}
