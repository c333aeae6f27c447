package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/validator"
)

// A private key for import tests and its address.
const (
	testKeyHex  = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"
	testKeyAddr = "0x71562b71999873db5b286df957af199ec94617f7"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyFixture is a key directory and a password file.
type keyFixture struct {
	dir, password string
}

func newKeyFixture(t *testing.T) keyFixture {
	t.Helper()
	tmp := t.TempDir()
	return keyFixture{dir: filepath.Join(tmp, "keys"), password: writeFile(t, tmp, "password.txt", "correct horse\n")}
}

func TestKeysRoundTrip(t *testing.T) {
	f := newKeyFixture(t)

	// keys new, named and by address.
	var alice keyInfo
	decodeJSON(t, quorumchain(t, "keys", "new", "--dir", f.dir, "--name", "alice", "--password-file", f.password, "--light-kdf", "--output", "json").ok(t), &alice)
	if want := filepath.Join(f.dir, "alice.json"); alice.File != want {
		t.Errorf("file = %s, want %s", alice.File, want)
	}
	if _, err := chain.ParseAddress(alice.Address); err != nil || alice.Address != strings.ToLower(alice.Address) {
		t.Errorf("address %q: want lowercase 0x hex (%v)", alice.Address, err)
	}
	info, err := os.Stat(alice.File)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	out := quorumchain(t, "keys", "new", "--dir", f.dir, "--password-file", f.password, "--light-kdf").ok(t)
	fields := strings.Fields(out) // address: 0x.. file: path
	if len(fields) != 4 {
		t.Fatalf("keys new output:\n%s", out)
	}
	anon := keyInfo{Address: fields[1], File: fields[3]}
	if want := filepath.Join(f.dir, anon.Address+".json"); anon.File != want {
		t.Errorf("file = %s, want %s", anon.File, want)
	}

	// keys import reads the hex key from a file.
	hexFile := writeFile(t, t.TempDir(), "key.hex", "0x"+testKeyHex+"\n")
	var imported keyInfo
	decodeJSON(t, quorumchain(t, "keys", "import", "--dir", f.dir, "--name", "imported", "--password-file", f.password, "--light-kdf", "-o", "json", hexFile).ok(t), &imported)
	if imported.Address != testKeyAddr {
		t.Errorf("imported address = %s, want %s", imported.Address, testKeyAddr)
	}
	key, err := validator.LoadKeyFile(imported.File, "correct horse")
	if err != nil {
		t.Fatalf("LoadKeyFile(imported): %v", err)
	}
	if got := crypto.FromECDSA(key); chain.FormatHash(chain.Hash(got)) != "0x"+testKeyHex {
		t.Errorf("imported key differs")
	}

	// keys list skips what is not a key file, with a warning.
	writeFile(t, f.dir, "notes.txt", "not a key")
	if err := os.Mkdir(filepath.Join(f.dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := quorumchain(t, "keys", "list", "--dir", f.dir, "--output", "json")
	var listed []keyInfo
	decodeJSON(t, r.ok(t), &listed)
	if len(listed) != 3 {
		t.Fatalf("keys list = %+v, want 3 keys", listed)
	}
	for _, want := range []keyInfo{alice, anon, imported} {
		found := false
		for _, k := range listed {
			found = found || k == want
		}
		if !found {
			t.Errorf("keys list lacks %+v: %+v", want, listed)
		}
	}
	if !strings.Contains(r.stderr, "warning: skipping "+filepath.Join(f.dir, "notes.txt")) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("keys list stderr = %q, want one warning about notes.txt", r.stderr)
	}
	text := quorumchain(t, "keys", "list", "--dir", f.dir).ok(t)
	if !strings.Contains(text, alice.Address+"  "+alice.File+"\n") {
		t.Errorf("keys list text:\n%s", text)
	}

	// keys show needs no password; --verify decrypts.
	if got := quorumchain(t, "keys", "show", alice.File).ok(t); got != alice.Address+"\n" {
		t.Errorf("keys show = %q, want %q", got, alice.Address+"\n")
	}
	var shown keyInfo
	decodeJSON(t, quorumchain(t, "keys", "show", "--output", "json", alice.File).ok(t), &shown)
	if shown != alice {
		t.Errorf("keys show json = %+v, want %+v", shown, alice)
	}
	if got := quorumchain(t, "keys", "show", "--verify", "--password-file", f.password, imported.File).ok(t); got != testKeyAddr+"\n" {
		t.Errorf("keys show --verify = %q", got)
	}
}

func TestKeysErrors(t *testing.T) {
	f := newKeyFixture(t)
	quorumchain(t, "keys", "new", "--dir", f.dir, "--name", "k", "--password-file", f.password, "--light-kdf").ok(t)
	keyFile := filepath.Join(f.dir, "k.json")
	tmp := t.TempDir()
	wrong := writeFile(t, tmp, "wrong.txt", "wrong password")
	empty := writeFile(t, tmp, "empty.txt", "\n")
	badHex := writeFile(t, tmp, "bad.hex", "zz"+testKeyHex[2:])
	zeroKey := writeFile(t, tmp, "zero.hex", strings.Repeat("0", 64))
	good := writeFile(t, tmp, "good.hex", testKeyHex)
	t.Setenv(envPassword, "")
	os.Unsetenv(envPassword)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", []string{"keys", "show", "--verify", "--password-file", wrong, keyFile}, "could not decrypt key with given password"},
		{"no password", []string{"keys", "show", "--verify", keyFile}, "no password: give --password-file or set QUORUMCHAIN_PASSWORD"},
		{"missing key file", []string{"keys", "show", filepath.Join(tmp, "missing.json")}, "no such file or directory"},
		{"not a key file", []string{"keys", "show", wrong}, "not a keystore v3 key file"},
		{"show without file", []string{"keys", "show"}, "want FILE"},
		{"missing password file", []string{"keys", "new", "--dir", f.dir, "--password-file", filepath.Join(tmp, "nope")}, "read password file"},
		{"empty password", []string{"keys", "new", "--dir", f.dir, "--password-file", empty}, "empty password"},
		{"existing name", []string{"keys", "new", "--dir", f.dir, "--name", "k", "--password-file", f.password, "--light-kdf"}, "key file already exists"},
		{"name with a slash", []string{"keys", "new", "--dir", f.dir, "--name", "../k", "--password-file", f.password}, `--name "../k"`},
		{"import bad hex", []string{"keys", "import", "--dir", f.dir, "--password-file", f.password, badHex}, "private key is not hexadecimal"},
		{"import zero key", []string{"keys", "import", "--dir", f.dir, "--password-file", f.password, zeroKey}, "not a valid secp256k1 private key"},
		{"import key on argv", []string{"keys", "import", "--dir", f.dir, "--password-file", f.password, testKeyHex}, "read key: open " + testKeyHex},
		{"import without file", []string{"keys", "import", "--dir", f.dir, "--password-file", f.password}, "want HEXKEY_FILE"},
		{"import twice", []string{"keys", "import", "--dir", f.dir, "--name", "k", "--password-file", f.password, good}, "key file already exists"},
		{"list missing dir", []string{"keys", "list", "--dir", filepath.Join(tmp, "none")}, "key directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := quorumchain(t, tt.args...)
			r.fails(t, tt.want)
			if strings.Contains(r.stderr, testKeyHex[4:]) && tt.name != "import key on argv" {
				t.Errorf("error repeats key material: %s", r.stderr)
			}
		})
	}
}

func TestKeysPasswordFromEnv(t *testing.T) {
	f := newKeyFixture(t)
	t.Setenv(envPassword, "from env")
	var k keyInfo
	decodeJSON(t, quorumchain(t, "keys", "new", "--dir", f.dir, "--light-kdf", "-o", "json").ok(t), &k)
	if _, err := validator.LoadKeyFile(k.File, "from env"); err != nil {
		t.Errorf("key not encrypted with the password of %s: %v", envPassword, err)
	}
	quorumchain(t, "keys", "show", "--verify", k.File).ok(t)
}

func TestKeysDefaultDirIsHome(t *testing.T) {
	home := t.TempDir()
	f := newKeyFixture(t)
	var k keyInfo
	decodeJSON(t, quorumchain(t, "--home", home, "keys", "new", "--name", "v", "--password-file", f.password, "--light-kdf", "-o", "json").ok(t), &k)
	if want := filepath.Join(home, "keys", "v.json"); k.File != want {
		t.Errorf("file = %s, want %s", k.File, want)
	}
}
