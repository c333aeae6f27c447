package main

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/validator"
)

// maxHexKeyFileBytes bounds a raw private key file for keys import.
const maxHexKeyFileBytes = 1 << 10

// keyInfo is the JSON form of a key file.
type keyInfo struct {
	Address string `json:"address"`
	File    string `json:"file"`
}

func keysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "manage validator and account keys (go-ethereum keystore v3 files)",
		Subcommands: []*cli.Command{
			keysNewCommand(),
			keysListCommand(),
			keysShowCommand(),
			keysImportCommand(),
		},
	}
}

func keyDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "dir", Usage: "key directory", DefaultText: "HOME/keys", TakesFile: true}
}

func keyWriteFlags() []cli.Flag {
	return []cli.Flag{
		keyDirFlag(),
		&cli.StringFlag{Name: "name", Usage: "file name without .json", DefaultText: "the address"},
		passwordFileFlag(),
		&cli.BoolFlag{Name: "light-kdf", Usage: "cheap scrypt parameters (testnets only)"},
		outputFlag(),
	}
}

func keysNewCommand() *cli.Command {
	return &cli.Command{
		Name:  "new",
		Usage: "generate a key and write it encrypted to DIR/NAME.json",
		Flags: keyWriteFlags(),
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			key, err := crypto.GenerateKey()
			if err != nil {
				return fmt.Errorf("generate key: %w", err)
			}
			return writeKey(c, key)
		},
	}
}

func keysImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "encrypt a raw hex private key read from HEXKEY_FILE into DIR/NAME.json",
		ArgsUsage: "HEXKEY_FILE",
		Flags:     keyWriteFlags(),
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "HEXKEY_FILE")
			if err != nil {
				return err
			}
			key, err := readHexKey(a[0])
			if err != nil {
				return err
			}
			return writeKey(c, key)
		},
	}
}

// readHexKey reads a private key written as hex in a file. Errors never
// quote the file's content.
func readHexKey(path string) (*ecdsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHexKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	if len(b) > maxHexKeyFileBytes {
		return nil, fmt.Errorf("key file %s: larger than %d bytes", path, maxHexKeyFileBytes)
	}
	key, err := validator.ParsePrivateKeyHex(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// writeKey encrypts key into --dir/--name.json and prints its address and
// file.
func writeKey(c *cli.Context, key *ecdsa.PrivateKey) error {
	asJSON, err := outputJSON(c)
	if err != nil {
		return err
	}
	dir, err := keyDir(c)
	if err != nil {
		return err
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	name := c.String("name")
	if !c.IsSet("name") {
		name = chain.FormatAddress(addr)
	}
	if err := checkKeyName(name); err != nil {
		return err
	}
	password, err := readNewPassword(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("key directory: %w", err)
	}
	path := filepath.Join(dir, name+".json")
	if err := validator.CreateKeyFile(path, key, password, c.Bool("light-kdf")); err != nil {
		return err
	}
	return printKey(c, asJSON, keyInfo{Address: chain.FormatAddress(addr), File: path})
}

func printKey(c *cli.Context, asJSON bool, k keyInfo) error {
	if asJSON {
		return writeJSON(c.App.Writer, k)
	}
	_, err := fmt.Fprintf(c.App.Writer, "address: %s\nfile:    %s\n", k.Address, k.File)
	return err
}

func keyDir(c *cli.Context) (string, error) {
	if d := c.String("dir"); d != "" {
		return d, nil
	}
	home, err := homeDir(c)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "keys"), nil
}

// checkKeyName keeps a key file inside its directory.
func checkKeyName(name string) error {
	if name == "" || len(name) > 100 || name[0] == '.' {
		return fmt.Errorf("--name %q: want 1 to 100 characters from [A-Za-z0-9._-], not starting with a dot", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("--name %q: want 1 to 100 characters from [A-Za-z0-9._-], not starting with a dot", name)
		}
	}
	return nil
}

// readPassword reads the key password from --password-file or
// $QUORUMCHAIN_PASSWORD.
func readPassword(c *cli.Context) (string, error) {
	return validator.ReadPassword(c.String("password-file"), envPassword)
}

// readNewPassword is readPassword for a key being written: an empty
// password would leave the key unprotected.
func readNewPassword(c *cli.Context) (string, error) {
	p, err := readPassword(c)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("empty password: a key file must be encrypted with a password")
	}
	return p, nil
}

// loadKey decrypts a key file with the password of --password-file or
// $QUORUMCHAIN_PASSWORD, checking the key matches the file's address. The
// commands that sign use it.
func loadKey(c *cli.Context, path string) (*ecdsa.PrivateKey, chain.Address, error) {
	password, err := readPassword(c)
	if err != nil {
		return nil, chain.Address{}, err
	}
	return validator.LoadKeyFileAddress(path, password)
}

func keysListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the address and file of every key file in DIR",
		Flags: []cli.Flag{keyDirFlag(), outputFlag()},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			dir, err := keyDir(c)
			if err != nil {
				return err
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("key directory: %w", err)
			}
			keys := []keyInfo{}
			for _, e := range entries {
				// Skip directories and the temporary files of atomic writes.
				if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				path := filepath.Join(dir, e.Name())
				addr, err := validator.KeyFileAddress(path)
				if err != nil {
					fmt.Fprintf(c.App.ErrWriter, "quorumchain: warning: skipping %s: %s\n", path, oneLine(err.Error()))
					continue
				}
				keys = append(keys, keyInfo{Address: chain.FormatAddress(addr), File: path})
			}
			if asJSON {
				return writeJSON(c.App.Writer, keys)
			}
			for _, k := range keys {
				fmt.Fprintf(c.App.Writer, "%s  %s\n", k.Address, k.File)
			}
			return nil
		},
	}
}

func keysShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print the address of a key file (no password needed unless --verify)",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verify", Usage: "decrypt the key with the password and check it matches the address"},
			passwordFileFlag(),
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			a, err := args(c, 1, 1, "FILE")
			if err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			var addr chain.Address
			if c.Bool("verify") {
				_, addr, err = loadKey(c, a[0])
			} else {
				addr, err = validator.KeyFileAddress(a[0])
			}
			if err != nil {
				return err
			}
			k := keyInfo{Address: chain.FormatAddress(addr), File: a[0]}
			if asJSON {
				return writeJSON(c.App.Writer, k)
			}
			_, err = fmt.Fprintln(c.App.Writer, k.Address)
			return err
		},
	}
}
