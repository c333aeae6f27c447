package p2p

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
)

// certOpts shapes a test certificate; the zero value (with nodeKey) is an
// honest one.
type certOpts struct {
	nodeKey    *ecdsa.PrivateKey
	tlsKey     *ecdsa.PrivateKey // default a fresh P-256 key
	ext        []byte            // identity extension value; default the honest one
	noExt      bool
	extTwice   bool
	otherCrit  bool              // add an unknown critical extension
	issuer     *ecdsa.PrivateKey // signs the certificate; default tlsKey (self-signed)
	notBefore  time.Time         // default an hour ago
	notAfter   time.Time         // default in a day
	nonCritExt bool              // identity extension not marked critical
}

func makeCert(t testing.TB, o certOpts) *tls.Certificate {
	t.Helper()
	var err error
	if o.tlsKey == nil {
		if o.tlsKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	if o.issuer == nil {
		o.issuer = o.tlsKey
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(24 * time.Hour)
	}
	if o.ext == nil {
		o.ext = honestExtension(t, o.nodeKey, &o.tlsKey.PublicKey)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: o.notBefore, NotAfter: o.notAfter}
	if !o.noExt {
		e := pkix.Extension{Id: identityExtensionOID, Critical: !o.nonCritExt, Value: o.ext}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		if o.extTwice {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	if o.otherCrit {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &o.tlsKey.PublicKey, o.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: o.tlsKey}
}

// honestExtension is nodeKey's identity extension for tlsPub.
func honestExtension(t testing.TB, nodeKey *ecdsa.PrivateKey, tlsPub *ecdsa.PublicKey) []byte {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(tlsPub)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := chain.Sign(nodeKey, identityDigest(spki))
	if err != nil {
		t.Fatal(err)
	}
	return mustASN1(t, identityExtension{NodePublicKey: crypto.FromECDSAPub(&nodeKey.PublicKey), Signature: sig[:]})
}

func mustASN1(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// extensionOf returns the identity extension value of a DER certificate.
func extensionOf(t testing.TB, der []byte) []byte {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(identityExtensionOID) {
			return e.Value
		}
	}
	t.Fatal("no identity extension")
	return nil
}

func TestIdentityCertificateVerifies(t *testing.T) {
	key := testKey(t, 3)
	now := time.Now()
	c, err := newIdentityCert(key, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now, c.Leaf.NotBefore, c.Leaf.NotAfter} {
		id, err := verifyPeerCertificates(c.Certificate, at)
		if err != nil || id != NodeIDFromKey(key) {
			t.Errorf("at %v: got %s, %v; want %s", at, id, err, NodeIDFromKey(key))
		}
	}
	if c.Leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 || c.Leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("certificate algorithms %s/%s, want ECDSA P-256", c.Leaf.SignatureAlgorithm, c.Leaf.PublicKeyAlgorithm)
	}
}

// TestIdentityCertificateRejected: every way a certificate can fail to
// prove a node key is refused with ErrBadCertificate and a reason.
func TestIdentityCertificateRejected(t *testing.T) {
	key, other := testKey(t, 3), testKey(t, 4)
	honest := makeCert(t, certOpts{nodeKey: key})
	otherTLS, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := crypto.FromECDSAPub(&key.PublicKey)
	goodSig := func() []byte {
		var ie identityExtension
		if _, err := asn1.Unmarshal(extensionOf(t, honest.Certificate[0]), &ie); err != nil {
			t.Fatal(err)
		}
		return ie.Signature
	}()
	tests := []struct {
		name  string
		certs [][]byte
		want  string
	}{
		{"no certificate", nil, "0 certificates"},
		{"two certificates", [][]byte{honest.Certificate[0], honest.Certificate[0]}, "2 certificates"},
		{"not DER", [][]byte{[]byte("not a certificate")}, "certificate: x509"},
		{"oversized", [][]byte{make([]byte, maxCertBytes+1)}, "bytes, limit"},
		{"expired", makeCert(t, certOpts{nodeKey: key, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)}).Certificate, "valid from"},
		{"not yet valid", makeCert(t, certOpts{nodeKey: key, notBefore: time.Now().Add(time.Hour)}).Certificate, "valid from"},
		{"signed by another key", makeCert(t, certOpts{nodeKey: key, issuer: otherTLS}).Certificate, "not self-signed"},
		{"no extension", makeCert(t, certOpts{nodeKey: key, noExt: true}).Certificate, "no identity extension"},
		{"extension twice", makeCert(t, certOpts{nodeKey: key, extTwice: true}).Certificate, "certificate: x509"},
		{"unknown critical extension", makeCert(t, certOpts{nodeKey: key, otherCrit: true}).Certificate, "unknown critical extension"},
		{"extension of another TLS key", makeCert(t, certOpts{nodeKey: key, ext: extensionOf(t, honest.Certificate[0])}).Certificate, "identity signature is not by node key"},
		{"node key swapped", makeCert(t, certOpts{nodeKey: key, ext: mustASN1(t, identityExtension{NodePublicKey: crypto.FromECDSAPub(&other.PublicKey), Signature: goodSig})}).Certificate, "identity signature"},
		{"short public key", makeCert(t, certOpts{nodeKey: key, ext: mustASN1(t, identityExtension{NodePublicKey: pub[:33], Signature: goodSig})}).Certificate, "node public key of 33 bytes"},
		{"point off the curve", makeCert(t, certOpts{nodeKey: key, ext: mustASN1(t, identityExtension{NodePublicKey: append([]byte{4}, make([]byte, 64)...), Signature: goodSig})}).Certificate, "node public key"},
		{"short signature", makeCert(t, certOpts{nodeKey: key, ext: mustASN1(t, identityExtension{NodePublicKey: pub, Signature: goodSig[:64]})}).Certificate, "identity signature of 64 bytes"},
		{"trailing bytes", makeCert(t, certOpts{nodeKey: key, ext: append(mustASN1(t, identityExtension{NodePublicKey: pub, Signature: goodSig[:60]}), 0)}).Certificate, "trailing"},
		{"oversized extension", makeCert(t, certOpts{nodeKey: key, ext: append(extensionOf(t, honest.Certificate[0]), 0)}).Certificate, "limit"},
		{"not a sequence", makeCert(t, certOpts{nodeKey: key, ext: mustASN1(t, 7)}).Certificate, "identity extension"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := verifyPeerCertificates(tc.certs, time.Now())
			if !errors.Is(err, ErrBadCertificate) || !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %s, %v; want ErrBadCertificate containing %q", id, err, tc.want)
			}
		})
	}
	if _, err := verifyPeerCertificates(makeCert(t, certOpts{nodeKey: key, nonCritExt: true}).Certificate, time.Now()); err != nil {
		t.Errorf("non-critical identity extension: %v", err)
	}
}

// TestTLSIdentityRenews: a certificate near the end of its validity is
// replaced by a fresh one for a new TLS key.
func TestTLSIdentityRenews(t *testing.T) {
	id := &tlsIdentity{nodeKey: testKey(t, 3)}
	first, err := id.current()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := id.current(); err != nil || again != first {
		t.Fatalf("second call: got a new certificate (%v)", err)
	}
	old, err := newIdentityCert(id.nodeKey, time.Now().Add(-certValidity+certRenewBefore/2))
	if err != nil {
		t.Fatal(err)
	}
	id.cert = old
	renewed, err := id.current()
	if err != nil {
		t.Fatal(err)
	}
	if renewed == old || !renewed.Leaf.NotAfter.After(old.Leaf.NotAfter) {
		t.Fatalf("certificate expiring %v not renewed", old.Leaf.NotAfter)
	}
}
