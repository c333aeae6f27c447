package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// errPinMismatch means the node is not the one vote pinned.
var errPinMismatch = errors.New("node identity does not match the pinned one")

// nodePins holds the identity vote pins for its node: the node id that
// chain_status reports, and over TLS the SHA-256 of the node certificate's
// public key (SubjectPublicKeyInfo). Each is given by a flag or learned at
// the first connection, and every later connection must match. It is safe
// for concurrent use (TLS handshakes call it).
type nodePins struct {
	mu       sync.Mutex
	nodeID   string
	tlsKey   []byte // SHA-256 of the SPKI
	tlsGiven bool   // from --tls-fingerprint: replaces CA verification
	roots    *x509.CertPool
}

// newNodePins reads the pinning flags: nodeID ("" to learn it),
// fingerprint (hex SHA-256 of the SPKI, "" to learn it) and caFile (PEM
// roots for the node certificate, "" for the system's).
func newNodePins(nodeID, fingerprint, caFile string) (*nodePins, error) {
	p := &nodePins{nodeID: strings.ToLower(nodeID)}
	if fingerprint != "" {
		fp, err := hex.DecodeString(strings.TrimPrefix(strings.ReplaceAll(strings.ToLower(fingerprint), ":", ""), "0x"))
		if err != nil || len(fp) != sha256.Size {
			return nil, fmt.Errorf("--tls-fingerprint %q: want the 64 hex digits of the SHA-256 of the node certificate's public key", fingerprint)
		}
		p.tlsKey, p.tlsGiven = fp, true
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		p.roots = x509.NewCertPool()
		if !p.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", caFile)
		}
	}
	return p, nil
}

// checkNodeID pins id at the first call and compares it afterwards.
func (p *nodePins) checkNodeID(id string) (learned bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id = strings.ToLower(id)
	if p.nodeID == "" {
		if id == "" {
			return false, fmt.Errorf("%w: the node reports no node id", errPinMismatch)
		}
		p.nodeID = id
		return true, nil
	}
	if id != p.nodeID {
		return false, fmt.Errorf("%w: node id %s, pinned %s", errPinMismatch, id, p.nodeID)
	}
	return false, nil
}

// tlsConfig is the TLS configuration of every connection to the node. With
// a fingerprint from the flag the pin alone authenticates the node (so a
// self-signed certificate works); otherwise the certificate must also
// verify against the roots, and its key is pinned at the first handshake.
func (p *nodePins) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            p.roots,
		InsecureSkipVerify: p.tlsGiven, // the pinned key is checked in VerifyConnection
		VerifyConnection:   p.verifyConnection,
	}
}

func (p *nodePins) verifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate", errPinMismatch)
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tlsKey == nil {
		p.tlsKey = sum[:]
		return nil
	}
	if !bytes.Equal(p.tlsKey, sum[:]) {
		return fmt.Errorf("%w: certificate key %x, pinned %x", errPinMismatch, sum, p.tlsKey)
	}
	return nil
}

// tlsFingerprint is the pinned certificate key, or "" before the first
// TLS connection.
func (p *nodePins) tlsFingerprint() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return hex.EncodeToString(p.tlsKey)
}
