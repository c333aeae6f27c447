package staking

import (
	"fmt"
	"math/bits"
)

// Downtime: each block's last certificate records, for every member of the
// certified height's set, whether its precommit is there. A validator's
// record is a ring of its last DowntimeWindow such bits with their count;
// a validator missing from more than DowntimeMaxMissed of them is jailed
// (and slashed SlashFractionDowntime), as Cosmos SDK x/slashing does with
// its signed-blocks window. A block costs O(validators).

// liveness is a validator's window: how many certificates were recorded
// (the ring position is recorded % window), how many of those in the ring
// lack its precommit, and the ring, one bit per certificate (1 = missed).
type liveness struct {
	recorded, missed uint64
	ring             []uint64
}

func livenessKey(v Address) []byte {
	k := addrKey(kindLiveness, v)
	return k[:]
}

func (s *State) liveness(v Address) liveness {
	k := livenessKey(v)
	b := s.t.get(k)
	if b == nil {
		return liveness{}
	}
	l, err := decodeLiveness(b, s.params.DowntimeWindow)
	return mustDecode(l, err, k)
}

func (s *State) putLiveness(v Address, l liveness) {
	k := livenessKey(v)
	if l.recorded == 0 {
		s.t.delete(k)
		return
	}
	s.t.put(k, encodeUints(append([]uint64{l.recorded, l.missed}, l.ring...)...))
}

// ringWords is the number of 64-bit words of a window's ring.
func ringWords(window uint64) int { return int((window + 63) / 64) }

func decodeLiveness(b []byte, window uint64) (liveness, error) {
	f := make([]uint64, 2+ringWords(window))
	if err := decodeUints(b, f); err != nil {
		return liveness{}, err
	}
	l := liveness{recorded: f[0], missed: f[1], ring: f[2:]}
	var count uint64
	for _, w := range l.ring {
		count += uint64(bits.OnesCount64(w))
	}
	if last := window % 64; last != 0 && l.ring[len(l.ring)-1]>>last != 0 {
		return liveness{}, fmt.Errorf("ring bits beyond the window of %d", window)
	}
	if count != l.missed || l.recorded == 0 || l.missed > min(l.recorded, window) {
		return liveness{}, fmt.Errorf("missed %d of %d recorded, ring holds %d", l.missed, l.recorded, count)
	}
	return l, nil
}

// Missed returns how many of validator's last DowntimeWindow recorded
// certificates lack its precommit.
func (s *State) Missed(validator Address) uint64 { return s.liveness(validator).missed }

// Jailing is a validator jailed for downtime by RecordLiveness.
type Jailing struct {
	Validator Address
	Missed    uint64
	Burned    uint64
}

// RecordLiveness records, at height (Height()+1), one certificate of the
// set members: signed reports whether each member's precommit is in it.
// Members already jailed are skipped. A member whose missed count exceeds
// DowntimeMaxMissed is slashed SlashFractionDowntime and jailed until
// height + JailBlocks, with a fresh window; the next selection drops it, so
// it leaves the set at height+2. It returns the jailings in member order.
// Errors: ErrBadHeight, ErrOverflow.
func (s *State) RecordLiveness(height uint64, members []Address, signed func(Address) bool) ([]Jailing, error) {
	if err := s.checkHeight(height); err != nil {
		return nil, err
	}
	if _, err := addHeight(height, s.params.JailBlocks); err != nil {
		return nil, err
	}
	w := s.params.DowntimeWindow
	var jailed []Jailing
	for _, v := range members {
		if c, ok := s.Candidate(v); !ok || c.Jailed {
			continue
		}
		l := s.liveness(v)
		if l.ring == nil {
			l.ring = make([]uint64, ringWords(w))
		}
		i := l.recorded % w
		word, bit := i/64, uint64(1)<<(i%64)
		if l.ring[word]&bit != 0 {
			l.missed--
			l.ring[word] &^= bit
		}
		if !signed(v) {
			l.missed++
			l.ring[word] |= bit
		}
		l.recorded++ // at most one per height: cannot wrap
		if l.missed <= s.params.DowntimeMaxMissed {
			s.putLiveness(v, l)
			continue
		}
		burned, err := s.slashAndJail(v, s.params.SlashFractionDowntime, height)
		if err != nil {
			panic(fmt.Sprintf("staking: invariant downtime-slash-of-candidate: %v", err)) // checked above
		}
		jailed = append(jailed, Jailing{Validator: v, Missed: l.missed, Burned: burned})
	}
	return jailed, nil
}
