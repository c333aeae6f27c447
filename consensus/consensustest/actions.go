package consensustest

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/quorumchain/quorumchain/chain"
)

// Find returns the first element of acts whose dynamic type is T:
//
//	sv, ok := consensustest.Find[consensus.SignVote](actions)
func Find[T any, A any](acts []A) (T, bool) {
	for _, a := range acts {
		if t, ok := any(a).(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// FindAll returns every element of acts whose dynamic type is T, in order.
func FindAll[T any, A any](acts []A) []T {
	var out []T
	for _, a := range acts {
		if t, ok := any(a).(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Count returns how many elements of acts have dynamic type T.
func Count[T any, A any](acts []A) int { return len(FindAll[T](acts)) }

// Describe renders actions (or inputs) one per line, with votes, proposals,
// blocks and certificates abbreviated, for test failure messages.
func Describe[A any](acts []A) string {
	var b strings.Builder
	for i, a := range acts {
		fmt.Fprintf(&b, "%2d %s\n", i, describe(a))
	}
	return b.String()
}

func describe(x any) string {
	v := reflect.ValueOf(x)
	if !v.IsValid() {
		return "<nil>"
	}
	t := v.Type()
	if t.Kind() != reflect.Struct {
		return short(x)
	}
	var b strings.Builder
	b.WriteString(t.Name())
	b.WriteString("{")
	for i := 0; i < t.NumField(); i++ {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%s", t.Field(i).Name, short(v.Field(i).Interface()))
	}
	b.WriteString("}")
	return b.String()
}

func short(x any) string {
	switch x := x.(type) {
	case *chain.Vote:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("%s(h=%d r=%d %s by %s)", x.Type, x.Height, x.Round, ShortHash(x.BlockHash), ShortAddr(x.Validator))
	case *chain.Proposal:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("proposal(h=%d r=%d pol=%d %s by %s)", x.Height, x.Round, x.POLRound, ShortHash(x.BlockHash), ShortAddr(x.Proposer))
	case *chain.Block:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("block(h=%d %s)", x.Header.Height, ShortHash(x.Hash()))
	case *chain.Certificate:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("cert(h=%d r=%d %s %d sigs)", x.Height, x.Round, ShortHash(x.BlockHash), len(x.Precommits))
	case *chain.Evidence:
		if x == nil {
			return "nil"
		}
		if x.Kind == chain.DoubleProposal {
			return fmt.Sprintf("evidence(proposal h=%d r=%d by %s)", x.Height(), x.Round(), ShortAddr(x.Validator()))
		}
		return fmt.Sprintf("evidence(%s h=%d r=%d by %s)", x.A.Type, x.A.Height, x.A.Round, ShortAddr(x.Validator()))
	case chain.Hash:
		return ShortHash(x)
	case chain.Address:
		return ShortAddr(x)
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	v := reflect.ValueOf(x)
	if v.Kind() == reflect.Struct {
		return describe(x)
	}
	return fmt.Sprintf("%v", x)
}

// ShortHash abbreviates a hash, "nil" for the zero hash.
func ShortHash(h chain.Hash) string {
	if h == (chain.Hash{}) {
		return "nil"
	}
	return chain.FormatHash(h)[:10]
}

// ShortAddr abbreviates an address.
func ShortAddr(a chain.Address) string { return chain.FormatAddress(a)[:8] }

// String describes one input, action or value the way Describe does.
func String(x any) string { return describe(x) }
