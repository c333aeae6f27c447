package staking_test

import "github.com/ethereum/go-ethereum/rlp"

func rlpUint(x uint64) []byte { return rlp.AppendUint64(nil, x) }

func rlpList(xs ...uint64) []byte {
	var content []byte
	for _, x := range xs {
		content = rlp.AppendUint64(content, x)
	}
	return append([]byte{0xC0 + byte(len(content))}, content...)
}
