package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/quorumchain/quorumchain/chain"
)

// ErrBadCertificate marks a peer certificate that does not prove a node
// identity. It wraps ErrBadHandshake.
var ErrBadCertificate = fmt.Errorf("%w: certificate", ErrBadHandshake)

// identityExtensionOID identifies the certificate extension that carries the
// node key and its signature over the certificate's public key:
// 1.3.6.1.4.1.32473.1.1, under the private enterprise arc 32473 that RFC 5612
// sets aside for examples and that no vendor owns. quorumchain has no Private
// Enterprise Number of its own yet; registering one would move this OID and
// bump ProtocolVersion.
var identityExtensionOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

// identityDomain separates the node key's signature over a TLS key from
// every other signature made with a node key.
const identityDomain = "quorumchain-p2p-tls-key-v1"

// Certificate lifetime: a Switch makes a new TLS key and certificate when
// less than certRenewBefore of certValidity is left. certBackdate absorbs
// clock skew between peers.
const (
	certValidity    = 7 * 24 * time.Hour
	certRenewBefore = 24 * time.Hour
	certBackdate    = time.Hour
)

// Bounds on what a peer certificate may be, checked before parsing.
const (
	maxCertBytes         = 4 << 10
	nodePubkeyBytes      = 65 // uncompressed secp256k1 point
	identitySigBytes     = len(chain.Signature{})
	maxIdentityExtension = 3 + (2 + nodePubkeyBytes) + (2 + identitySigBytes) // SEQUENCE with a long-form length
)

// identityExtension is the DER value of the identity extension:
//
//	SEQUENCE { nodePublicKey OCTET STRING, signature OCTET STRING }
//
// where nodePublicKey is the 65-byte uncompressed secp256k1 node key and
// signature is the node key's 65-byte recoverable signature over
// identityDigest(the certificate's SubjectPublicKeyInfo).
type identityExtension struct {
	NodePublicKey []byte
	Signature     []byte
}

// identityDigest is what the node key signs to vouch for a TLS key:
// keccak256(rlp([identityDomain, subjectPublicKeyInfo])).
func identityDigest(spki []byte) chain.Hash {
	b, err := rlp.EncodeToBytes([]any{identityDomain, spki})
	if err != nil {
		panic(fmt.Sprintf("p2p: encode identity digest: %v", err)) // byte strings: cannot fail
	}
	return crypto.Keccak256Hash(b)
}

// newIdentityCert makes a fresh P-256 TLS key and a self-signed certificate
// for it, valid from now-certBackdate to now+certValidity, carrying the
// identity extension signed by nodeKey.
func newIdentityCert(nodeKey *ecdsa.PrivateKey, now time.Time) (*tls.Certificate, error) {
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&tlsKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("tls key: %w", err)
	}
	sig, err := chain.Sign(nodeKey, identityDigest(spki))
	if err != nil {
		return nil, fmt.Errorf("identity signature: %w", err)
	}
	ext, err := asn1.Marshal(identityExtension{NodePublicKey: crypto.FromECDSAPub(&nodeKey.PublicKey), Signature: sig[:]})
	if err != nil {
		return nil, fmt.Errorf("identity extension: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: NodeIDFromKey(nodeKey).String()},
		NotBefore:       now.Add(-certBackdate),
		NotAfter:        now.Add(certValidity),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: identityExtensionOID, Critical: true, Value: ext}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &tlsKey.PublicKey, tlsKey)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: tlsKey, Leaf: leaf}, nil
}

// verifyPeerCertificates checks the certificates a peer presented in a TLS
// handshake and returns the NodeID they prove: exactly one certificate,
// self-signed, valid at now, carrying the identity extension (and no other
// critical extension we do not understand) whose node key signed the
// certificate's public key. TLS itself has checked that the peer holds the
// certificate's private key.
func verifyPeerCertificates(rawCerts [][]byte, now time.Time) (NodeID, error) {
	if len(rawCerts) != 1 {
		return NodeID{}, fmt.Errorf("%w: %d certificates, want exactly 1", ErrBadCertificate, len(rawCerts))
	}
	if len(rawCerts[0]) > maxCertBytes {
		return NodeID{}, fmt.Errorf("%w: %d bytes, limit %d", ErrBadCertificate, len(rawCerts[0]), maxCertBytes)
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return NodeID{}, fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return NodeID{}, fmt.Errorf("%w: valid from %s to %s, now is %s", ErrBadCertificate,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return NodeID{}, fmt.Errorf("%w: not self-signed: %w", ErrBadCertificate, err)
	}
	for _, oid := range cert.UnhandledCriticalExtensions {
		if !oid.Equal(identityExtensionOID) {
			return NodeID{}, fmt.Errorf("%w: unknown critical extension %s", ErrBadCertificate, oid)
		}
	}
	var value []byte
	for _, e := range cert.Extensions {
		if !e.Id.Equal(identityExtensionOID) {
			continue
		}
		if value != nil {
			return NodeID{}, fmt.Errorf("%w: identity extension appears twice", ErrBadCertificate)
		}
		value = e.Value
	}
	if value == nil {
		return NodeID{}, fmt.Errorf("%w: no identity extension %s", ErrBadCertificate, identityExtensionOID)
	}
	return verifyIdentityExtension(value, cert.RawSubjectPublicKeyInfo)
}

// verifyIdentityExtension decodes the DER value of an identity extension
// (strictly: canonical encoding, no trailing bytes, exact lengths) and
// checks that its node key signed spki. It returns that key's NodeID.
func verifyIdentityExtension(value, spki []byte) (NodeID, error) {
	if len(value) > maxIdentityExtension {
		return NodeID{}, fmt.Errorf("%w: identity extension of %d bytes, limit %d", ErrBadCertificate, len(value), maxIdentityExtension)
	}
	var ext identityExtension
	rest, err := asn1.Unmarshal(value, &ext)
	switch {
	case err != nil:
		return NodeID{}, fmt.Errorf("%w: identity extension: %w", ErrBadCertificate, err)
	case len(rest) != 0:
		return NodeID{}, fmt.Errorf("%w: identity extension: %d trailing bytes", ErrBadCertificate, len(rest))
	case len(ext.NodePublicKey) != nodePubkeyBytes:
		return NodeID{}, fmt.Errorf("%w: node public key of %d bytes, want %d", ErrBadCertificate, len(ext.NodePublicKey), nodePubkeyBytes)
	case len(ext.Signature) != identitySigBytes:
		return NodeID{}, fmt.Errorf("%w: identity signature of %d bytes, want %d", ErrBadCertificate, len(ext.Signature), identitySigBytes)
	}
	if re, err := asn1.Marshal(ext); err != nil || !bytes.Equal(re, value) {
		return NodeID{}, fmt.Errorf("%w: identity extension is not canonical DER", ErrBadCertificate)
	}
	pub, err := crypto.UnmarshalPubkey(ext.NodePublicKey)
	if err != nil {
		return NodeID{}, fmt.Errorf("%w: node public key: %w", ErrBadCertificate, err)
	}
	var sig chain.Signature
	copy(sig[:], ext.Signature)
	signer, err := chain.Recover(identityDigest(spki), &sig)
	if err != nil {
		return NodeID{}, fmt.Errorf("%w: identity signature: %w", ErrBadCertificate, err)
	}
	id := NodeID(chain.PubkeyAddress(pub))
	if NodeID(signer) != id {
		return NodeID{}, fmt.Errorf("%w: identity signature is not by node key %s", ErrBadCertificate, id)
	}
	return id, nil
}

// tlsIdentity holds this node's current TLS certificate and renews it
// before it expires.
type tlsIdentity struct {
	nodeKey *ecdsa.PrivateKey

	mu   sync.Mutex
	cert *tls.Certificate
}

// current returns a certificate with at least certRenewBefore of validity
// left, making a new one if needed.
func (t *tlsIdentity) current() (*tls.Certificate, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.cert == nil || now.After(t.cert.Leaf.NotAfter.Add(-certRenewBefore)) {
		c, err := newIdentityCert(t.nodeKey, now)
		if err != nil {
			return nil, fmt.Errorf("p2p: %w", err)
		}
		t.cert = c
	}
	return t.cert, nil
}

// tlsConfig returns the TLS configuration of both ends of a peer
// connection: TLS 1.3 only, a certificate from t on both sides, and the
// peer's certificate checked by verifyPeerCertificates instead of by a
// certificate authority. Session resumption is off, so every connection
// runs the full handshake and presents its certificate.
func (t *tlsIdentity) tlsConfig() *tls.Config {
	verify := func(cs tls.ConnectionState) error {
		raw := make([][]byte, len(cs.PeerCertificates))
		for i, c := range cs.PeerCertificates {
			raw[i] = c.Raw
		}
		_, err := verifyPeerCertificates(raw, time.Now())
		return err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.current()
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return t.current()
		},
		ClientAuth: tls.RequireAnyClientCert,
		// Peers have no certificate authority: the identity extension is
		// the proof, checked in VerifyConnection on both sides.
		InsecureSkipVerify:     true,
		VerifyConnection:       verify,
		SessionTicketsDisabled: true,
	}
}

// peerTLSIdentity returns the NodeID proven by a completed TLS handshake.
func peerTLSIdentity(cs tls.ConnectionState) (NodeID, error) {
	if !cs.HandshakeComplete || cs.Version != tls.VersionTLS13 {
		return NodeID{}, fmt.Errorf("%w: no TLS 1.3 session", ErrBadHandshake)
	}
	raw := make([][]byte, len(cs.PeerCertificates))
	for i, c := range cs.PeerCertificates {
		raw[i] = c.Raw
	}
	id, err := verifyPeerCertificates(raw, time.Now())
	if err != nil {
		return NodeID{}, err
	}
	return id, nil
}

// errNoTLS reports a connection that is not a TLS connection of ours.
var errNoTLS = errors.New("p2p: connection without TLS")
