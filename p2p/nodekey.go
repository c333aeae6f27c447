package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
)

// NodeID identifies a node: the address of its node key.
type NodeID chain.Address

// NodeIDFromKey returns the NodeID of a node key.
func NodeIDFromKey(key *ecdsa.PrivateKey) NodeID {
	return NodeID(chain.PubkeyAddress(&key.PublicKey))
}

// ParseNodeID parses 0x followed by 40 hex digits.
func ParseNodeID(s string) (NodeID, error) {
	a, err := chain.ParseAddress(s)
	if err != nil {
		return NodeID{}, fmt.Errorf("node id: %w", err)
	}
	return NodeID(a), nil
}

// String writes id as 0x followed by 40 lowercase hex digits.
func (id NodeID) String() string { return chain.FormatAddress(chain.Address(id)) }

// MarshalText implements encoding.TextMarshaler, so JSON logs show hex.
func (id NodeID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// nodeKeyFile is the JSON form of config/node_key.json.
type nodeKeyFile struct {
	PrivKey string `json:"privKey"`
}

// LoadOrCreateNodeKey reads the node key at path, or, if the file does not
// exist, generates a key and writes it there: JSON {"privKey":"0x.."},
// mode 0600, through a temporary file that is synced and renamed so that a
// crash never leaves a partial key file. An existing file that does not hold
// a valid key is an error and is left untouched.
func LoadOrCreateNodeKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseNodeKey(path, b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("node key: %w", err)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("node key: generate: %w", err)
	}
	body, err := json.Marshal(nodeKeyFile{PrivKey: hexutil.Encode(crypto.FromECDSA(key))})
	if err != nil {
		return nil, fmt.Errorf("node key: encode: %w", err)
	}
	if err := writeFileAtomic(path, append(body, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return key, nil
}

func parseNodeKey(path string, b []byte) (*ecdsa.PrivateKey, error) {
	var f nodeKeyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("node key %s: %w", path, err)
	}
	raw, err := hexutil.Decode(f.PrivKey)
	if err != nil {
		return nil, fmt.Errorf("node key %s: privKey: %w", path, err)
	}
	key, err := crypto.ToECDSA(raw)
	if err != nil {
		return nil, fmt.Errorf("node key %s: privKey: %w", path, err)
	}
	return key, nil
}

// writeFileAtomic writes data to path via a synced temporary file in the same
// directory, renamed into place, then syncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			if rmErr := os.Remove(tmpName); rmErr != nil {
				err = errors.Join(err, rmErr)
			}
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if _, err := tmp.Write(data); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Sync(); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
