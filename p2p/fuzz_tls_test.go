package p2p

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/gorilla/websocket"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/internal/fuzztest"
)

// fuzzNow is the time certificate fuzz targets verify at; their seeds are
// made valid then, so the checked-in corpus never expires.
var fuzzNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// certSeeds are DER certificates for FuzzPeerCertificate: an honest one,
// and ones with a foreign extension, an unknown critical extension, and no
// extension.
func certSeeds(t testing.TB) [][]byte {
	key := testKey(t, 3)
	honest, err := newIdentityCert(key, fuzzNow)
	if err != nil {
		t.Fatal(err)
	}
	at := certOpts{nodeKey: key, notBefore: fuzzNow.Add(-time.Hour), notAfter: fuzzNow.Add(time.Hour)}
	foreign, crit, none := at, at, at
	foreign.ext = extensionOf(t, honest.Certificate[0])
	crit.otherCrit = true
	none.noExt = true
	return [][]byte{honest.Certificate[0], makeCert(t, foreign).Certificate[0], makeCert(t, crit).Certificate[0], makeCert(t, none).Certificate[0]}
}

// extensionSeeds are (extension value, SubjectPublicKeyInfo) pairs for
// FuzzIdentityExtension, the first one valid.
func extensionSeeds(t testing.TB) [][2][]byte {
	var out [][2][]byte
	for _, der := range certSeeds(t)[:2] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [2][]byte{extensionOf(t, der), c.RawSubjectPublicKeyInfo})
	}
	return out
}

// handshakeSeeds are handshake frames for FuzzHandshakeFrame.
func handshakeSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, m := range controlMessages(t) {
		out = append(out, Encode(m))
	}
	other := &Hello{ProtocolVersion: ProtocolVersion, ChainID: "quorum-other", GenesisHash: testGenesis, NodeID: NodeIDFromKey(testKey(t, 2))}
	return append(out, Encode(other), Encode(sampleMessages(t)[0]))
}

// writeCorpus writes seeds as the checked-in corpus of target.
func writeCorpus(t *testing.T, target string, seeds [][]any) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, args := range seeds {
		body := "go test fuzz v1\n"
		for _, a := range args {
			body += fmt.Sprintf("[]byte(%q)\n", a)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteTLSFuzzCorpus regenerates the corpora of the handshake fuzz
// targets when QUORUM_WRITE_CORPUS=1.
func TestWriteTLSFuzzCorpus(t *testing.T) {
	if os.Getenv("QUORUM_WRITE_CORPUS") != "1" {
		t.Skip("set QUORUM_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	var certs, exts, frames [][]any
	for _, s := range certSeeds(t) {
		certs = append(certs, []any{s})
	}
	for _, s := range extensionSeeds(t) {
		exts = append(exts, []any{s[0], s[1]})
	}
	for _, s := range handshakeSeeds(t) {
		frames = append(frames, []any{s})
	}
	writeCorpus(t, "FuzzPeerCertificate", certs)
	writeCorpus(t, "FuzzIdentityExtension", exts)
	writeCorpus(t, "FuzzHandshakeFrame", frames)
}

// FuzzPeerCertificate checks that the certificate verifier never panics,
// rejects with ErrBadCertificate, and accepts only a certificate whose
// identity extension names the NodeID it returns.
func FuzzPeerCertificate(f *testing.F) {
	seeds := certSeeds(f)
	if _, err := verifyPeerCertificates(seeds[:1], fuzzNow); err != nil {
		f.Fatalf("honest seed: %v", err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		id, err := verifyPeerCertificates([][]byte{der}, fuzzNow)
		if err != nil {
			fuzztest.CheckError(t, err, ErrBadCertificate)
			return
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("accepted a certificate that does not parse: %v", err)
		}
		var ie identityExtension
		if _, err := asn1.Unmarshal(extensionOf(t, der), &ie); err != nil {
			t.Fatalf("accepted extension does not decode: %v", err)
		}
		pub, err := crypto.UnmarshalPubkey(ie.NodePublicKey)
		if err != nil || NodeID(chain.PubkeyAddress(pub)) != id {
			t.Fatalf("accepted id %s is not the extension's key (%v)", id, err)
		}
		if fuzzNow.Before(c.NotBefore) || fuzzNow.After(c.NotAfter) {
			t.Fatalf("accepted a certificate outside its validity")
		}
	})
}

// extensionBound is what verifying an identity extension may allocate.
var extensionBound = fuzztest.Bound{PerByte: 16, Fixed: 16 << 10}

// FuzzIdentityExtension checks that the extension decoder never panics,
// stays within extensionBound, rejects with ErrBadCertificate, and accepts
// only canonical DER whose key signed the given SubjectPublicKeyInfo.
func FuzzIdentityExtension(f *testing.F) {
	for _, s := range extensionSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, value, spki []byte) {
		var id NodeID
		var err error
		fuzztest.CheckAllocs(t, extensionBound, append(value, spki...), func() { id, err = verifyIdentityExtension(value, spki) })
		if err != nil {
			fuzztest.CheckError(t, err, ErrBadCertificate)
			return
		}
		var ie identityExtension
		rest, err := asn1.Unmarshal(value, &ie)
		if err != nil || len(rest) != 0 {
			t.Fatalf("accepted value does not decode exactly: %v, %d trailing", err, len(rest))
		}
		var sig chain.Signature
		copy(sig[:], ie.Signature)
		if signer, err := chain.Recover(identityDigest(spki), &sig); err != nil || NodeID(signer) != id {
			t.Fatalf("accepted id %s did not sign spki (%v)", id, err)
		}
	})
}

// FuzzHandshakeFrame checks that a handshake frame, whatever its bytes,
// decodes to the kind asked for, a Disconnect, or an error wrapping
// ErrBadHandshake or ErrRefused, and that checkHello then accepts a Hello
// only if it claims the TLS identity and matches our chain.
func FuzzHandshakeFrame(f *testing.F) {
	for _, s := range handshakeSeeds(f) {
		f.Add(s)
	}
	sw, err := NewSwitch(Config{ChainID: testChain, GenesisHash: testGenesis, NodeKey: testKey(f, 1)}, &recorder{sig: newSignal()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	tlsID := NodeIDFromKey(testKey(f, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, want := range []Kind{KindHello, KindAuth} {
			m, err := parseHandshakeFrame(websocket.BinaryMessage, b, want)
			if err != nil {
				fuzztest.CheckError(t, err, ErrBadHandshake, ErrRefused)
				if m != nil {
					t.Fatalf("error %v with a message %s", err, m.Kind())
				}
				continue
			}
			if m.Kind() != want {
				t.Fatalf("asked for %s, got %s", want, m.Kind())
			}
			h, ok := m.(*Hello)
			if !ok {
				continue
			}
			if err := sw.checkHello(h, tlsID, false); err != nil {
				fuzztest.CheckError(t, err, ErrIdentityMismatch, ErrProtocolMismatch, ErrChainMismatch, ErrGenesisMismatch, ErrSelfConnection, ErrDuplicatePeer)
				continue
			}
			if h.NodeID != tlsID || h.ChainID != testChain || h.GenesisHash != testGenesis || h.ProtocolVersion != ProtocolVersion {
				t.Fatalf("checkHello accepted %+v", h)
			}
		}
		if _, err := parseHandshakeFrame(websocket.TextMessage, b, KindHello); !errors.Is(err, ErrBadHandshake) {
			t.Fatalf("text frame: got %v, want ErrBadHandshake", err)
		}
	})
}
