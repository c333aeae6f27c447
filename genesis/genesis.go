package genesis

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/quorumchain/quorumchain/chain"
	"github.com/quorumchain/quorumchain/internal/fsutil"
	"github.com/quorumchain/quorumchain/staking"
)

// MaxDocBytes bounds a genesis file, so that a corrupt or hostile one cannot
// exhaust memory.
const MaxDocBytes = 32 << 20

// Doc is a genesis document. Its JSON form (MarshalJSON, Parse) is
//
//	{"chain_id": "quorum-local", "genesis_time": "2026-11-26T00:00:00Z",
//	 "params": {staking.Params},
//	 "accounts": [{"address": "0x..", "balance": "1000"}],
//	 "validators": [{"address": "0x..", "stake": "100", "name": "node0"}]}
//
// Consensus timeouts are node configuration (config.toml), not genesis: they
// may differ between nodes without forking the chain.
type Doc struct {
	ChainID     string
	GenesisTime time.Time // a whole millisecond, not before 1970; encoded in UTC
	Params      staking.Params
	Accounts    []Account   // liquid balances at genesis
	Validators  []Validator // self-bonded stakes forming the first validator set
}

// Account is a balance at genesis.
type Account struct {
	Address chain.Address
	Balance uint64
}

// Validator is a validator of the first height, with the stake it bonds to
// itself. The stake is not taken from a balance: it adds to the supply.
type Validator struct {
	Address chain.Address
	Stake   uint64
	Name    string // optional label, e.g. "node0"; not part of the chain state
	// Commission is the validator's starting commission, numerator over
	// staking.CommissionDen (JSON "commission", a decimal fraction such as
	// "0.05", omitted when 0).
	Commission uint64
}

// New returns a draft document with staking.DefaultParams and no accounts
// or validators. The time is kept in UTC.
func New(chainID string, genesisTime time.Time) *Doc {
	return &Doc{
		ChainID:     chainID,
		GenesisTime: genesisTime.UTC(),
		Params:      staking.DefaultParams(),
		Accounts:    []Account{},
		Validators:  []Validator{},
	}
}

// AddAccount appends an account and checks the resulting draft (see
// ValidateDraft); on error d is unchanged. A duplicate address is
// ErrDuplicateAddress.
func (d *Doc) AddAccount(addr chain.Address, balance uint64) error {
	d.Accounts = append(d.Accounts, Account{Address: addr, Balance: balance})
	if err := d.ValidateDraft(); err != nil {
		d.Accounts = d.Accounts[:len(d.Accounts)-1]
		return err
	}
	return nil
}

// AddValidator appends a validator and checks the resulting draft (see
// ValidateDraft); on error d is unchanged. A duplicate address is
// ErrDuplicateAddress; a stake under params.min_stake is ErrStakeBelowMin.
func (d *Doc) AddValidator(addr chain.Address, stake uint64, name string) error {
	d.Validators = append(d.Validators, Validator{Address: addr, Stake: stake, Name: name})
	if err := d.ValidateDraft(); err != nil {
		d.Validators = d.Validators[:len(d.Validators)-1]
		return err
	}
	return nil
}

// TotalStake is the sum of the validators' stakes. It cannot overflow for a
// Doc that passed ValidateDraft.
func (d *Doc) TotalStake() uint64 {
	var sum uint64
	for _, v := range d.Validators {
		sum += v.Stake
	}
	return sum
}

// TotalSupply is the sum of all balances and stakes. It cannot overflow for
// a Doc that passed ValidateDraft.
func (d *Doc) TotalSupply() uint64 {
	sum := d.TotalStake()
	for _, a := range d.Accounts {
		sum += a.Balance
	}
	return sum
}

// Hash is the Keccak-256 of the canonical encoding (MarshalJSON). Peers
// compare it in the handshake. It panics if d cannot be encoded, which
// cannot happen for a Doc that passed ValidateDraft.
func (d *Doc) Hash() chain.Hash {
	b, err := d.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("genesis: encodable document: %v", err))
	}
	return crypto.Keccak256Hash(b)
}

// InitialState validates d and builds the ledger state and validator set of
// height 1 from it.
func (d *Doc) InitialState() (*staking.State, *staking.ValidatorSet, error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	balances := make([]staking.GenesisBalance, len(d.Accounts))
	for i, a := range d.Accounts {
		balances[i] = staking.GenesisBalance{Address: a.Address, Amount: a.Balance}
	}
	stakes := make([]staking.GenesisStake, len(d.Validators))
	for i, v := range d.Validators {
		stakes[i] = staking.GenesisStake{Validator: v.Address, Amount: v.Stake, Commission: v.Commission}
	}
	state, set, err := staking.NewGenesisState(d.Params, balances, stakes)
	if err != nil {
		return nil, nil, fmt.Errorf("genesis: initial state: %w", err)
	}
	return state, set, nil
}

// Parse decodes a genesis document strictly and validates it. Errors are
// *FieldError.
func Parse(b []byte) (*Doc, error) {
	d, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// Decode decodes a genesis document as strictly as Parse but checks only
// its syntax and schema, not the rules of Validate.
func Decode(b []byte) (*Doc, error) {
	if len(b) > MaxDocBytes {
		return nil, fieldErr("", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxDocBytes))
	}
	d := new(Doc)
	if err := d.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return d, nil
}

// Load reads and parses a genesis file; see Parse.
func Load(path string) (*Doc, error) {
	return load(path, (*Doc).Validate)
}

// LoadDraft reads a genesis file that may still lack validators, for
// editing; see ValidateDraft.
func LoadDraft(path string) (*Doc, error) {
	return load(path, (*Doc).ValidateDraft)
}

func load(path string, validate func(*Doc) error) (*Doc, error) {
	b, err := readFileLimited(path, MaxDocBytes)
	if err != nil {
		return nil, err
	}
	d, err := Decode(b)
	if err == nil {
		err = validate(d)
	}
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.File == "" {
			fe.File = path
		}
		return nil, err
	}
	return d, nil
}

// Save checks d with ValidateDraft and writes it as indented JSON,
// atomically, to path.
func (d *Doc) Save(path string) error {
	if err := d.ValidateDraft(); err != nil {
		return err
	}
	b, err := d.MarshalIndent()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return nil
}

// readFileLimited reads at most limit bytes of path; a longer file is
// ErrTooLarge.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("genesis: read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, &FieldError{File: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}
