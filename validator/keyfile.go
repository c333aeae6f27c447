package validator

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/internal/fsutil"
)

// Key file errors.
var (
	// ErrKeyFileExists: CreateKeyFile never overwrites a key.
	ErrKeyFileExists = errors.New("key file already exists")
	// ErrNotKeyFile: the file is not a keystore v3 JSON document.
	ErrNotKeyFile = errors.New("not a keystore v3 key file")
)

// maxKeyFileBytes bounds a key file; a keystore v3 file is about 500 bytes.
const maxKeyFileBytes = 64 << 10

// CreateKeyFile encrypts key into a new go-ethereum keystore v3 file at
// path, written atomically with mode 0600. light selects
// keystore.LightScryptN/P (fast, for testnets) instead of
// keystore.StandardScryptN/P. If path exists the error wraps
// ErrKeyFileExists and nothing is written.
func CreateKeyFile(path string, key *ecdsa.PrivateKey, password string, light bool) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrKeyFileExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("create key file: %w", err)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("create key file: key id: %w", err)
	}
	k := &keystore.Key{Id: id, Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key}
	scryptN, scryptP := keystore.StandardScryptN, keystore.StandardScryptP
	if light {
		scryptN, scryptP = keystore.LightScryptN, keystore.LightScryptP
	}
	b, err := keystore.EncryptKey(k, password, scryptN, scryptP)
	if err != nil {
		return fmt.Errorf("create key file: encrypt: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	return nil
}

// KeyFileAddress returns the address recorded in a keystore v3 file, without
// the password. The address is not authenticated: LoadKeyFile and compare
// (or LoadKeyFileAddress) to be sure the key matches it.
func KeyFileAddress(path string) (chain.Address, error) {
	f, err := os.Open(path)
	if err != nil {
		return chain.Address{}, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return chain.Address{}, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(b) > maxKeyFileBytes {
		return chain.Address{}, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrNotKeyFile, maxKeyFileBytes)
	}
	var kf struct {
		Address string          `json:"address"`
		Crypto  json.RawMessage `json:"crypto"`
		Version int             `json:"version"`
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		return chain.Address{}, fmt.Errorf("%s: %w: %v", path, ErrNotKeyFile, err)
	}
	if kf.Version != 3 || len(kf.Crypto) == 0 {
		return chain.Address{}, fmt.Errorf("%s: %w: want version 3 with a crypto section", path, ErrNotKeyFile)
	}
	raw, err := decodeHex(kf.Address, len(chain.Address{}))
	if err != nil {
		return chain.Address{}, fmt.Errorf("%s: %w: address: %v", path, ErrNotKeyFile, err)
	}
	var a chain.Address
	copy(a[:], raw)
	return a, nil
}

// LoadKeyFileAddress decrypts a keystore v3 file like LoadKeyFile and also
// checks that the key belongs to the address the file records.
func LoadKeyFileAddress(path, password string) (*ecdsa.PrivateKey, chain.Address, error) {
	recorded, err := KeyFileAddress(path)
	if err != nil {
		return nil, chain.Address{}, err
	}
	key, err := LoadKeyFile(path, password)
	if err != nil {
		return nil, chain.Address{}, err
	}
	if got := crypto.PubkeyToAddress(key.PublicKey); got != recorded {
		return nil, chain.Address{}, fmt.Errorf("key file %s: key of %s, file says %s", path, chain.FormatAddress(got), chain.FormatAddress(recorded))
	}
	return key, recorded, nil
}

// ParsePrivateKeyHex parses a raw secp256k1 private key written as 64 hex
// digits, with or without 0x. Errors never repeat the input.
func ParsePrivateKeyHex(s string) (*ecdsa.PrivateKey, error) {
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if len(s) != 64 {
		return nil, fmt.Errorf("want 64 hex digits of a private key, got %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("private key is not hexadecimal")
	}
	key, err := crypto.ToECDSA(b)
	if err != nil {
		return nil, errors.New("not a valid secp256k1 private key")
	}
	return key, nil
}
