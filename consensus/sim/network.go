package sim

import (
	"math/bits"
	"time"
)

func mul128(a, b uint64) (hi, lo uint64) { return bits.Mul64(a, b) }

// canTalk reports whether the current partition lets a and b exchange messages.
func (s *sim) canTalk(a, b int) bool {
	if !s.partitioned {
		return true
	}
	sa, sb := s.vals[a].side, s.vals[b].side
	return sa == 0 || sb == 0 || sa == sb
}

// latency draws one message delay.
func (s *sim) latency() time.Duration {
	nc := &s.cfg.Net
	if nc.LatencyMax <= nc.LatencyMin {
		return nc.LatencyMin
	}
	return nc.LatencyMin + time.Duration(s.rng.Int64N(int64(nc.LatencyMax-nc.LatencyMin)+1))
}

// send puts m on the network to validator to (m is shared by all its
// recipients and copies). Before GST it may be lost to the partition or
// to a drop; at any time it may be duplicated; it arrives after a random
// latency, so messages reorder freely.
func (s *sim) send(m *message, to int) {
	s.rep.MessagesSent++
	if s.now < s.cfg.Net.GST {
		if !s.canTalk(m.from, to) {
			s.rep.MessagesDropped++
			return
		}
		if s.cfg.Net.Drop > 0 && s.rng.Float64() < s.cfg.Net.Drop {
			s.rep.MessagesDropped++
			return
		}
	}
	s.schedule(&event{at: s.now + s.latency(), kind: evDeliver, node: to, msg: m})
	if s.cfg.Net.Dup > 0 && s.rng.Float64() < s.cfg.Net.Dup {
		s.rep.MessagesDuplicated++
		s.schedule(&event{at: s.now + s.latency(), kind: evDeliver, node: to, msg: m})
	}
}

// deliver hands a message to its recipient, honest or Byzantine. A crashed
// recipient loses it.
func (s *sim) deliver(m *message, to int) {
	if b := s.byz[to]; b != nil {
		b.receive(m, to)
		return
	}
	n := s.nodes[to]
	if !n.up {
		return
	}
	s.rep.MessagesDelivered++
	if m.kind != msgStatus && m.kind != msgRoundStatus {
		s.trace.msg(s.now, to, m)
	}
	n.receive(m)
}

// repartition draws the next partition epoch, or heals the network at GST.
//
// Coalition runs keep one partition until GST: honest group 1 on side 1,
// group 2 on side 2, Byzantine validators on side 0 (reaching both). Other
// runs with Partition > 0 alternate epochs of uniform [P/2, 3P/2]: a third
// of them fully connected, the others splitting every validator uniformly
// among two or three sides.
func (s *sim) repartition() {
	gst := s.cfg.Net.GST
	if s.now >= gst {
		s.partitioned = false
		for i := range s.vals {
			s.vals[i].side = 0
		}
		s.trace.add(s.now, -1, "partition", "healed (GST)")
		return
	}
	next := gst
	if s.hasCoalition() {
		for i := range s.vals {
			s.vals[i].side = s.vals[i].group
		}
		s.partitioned = true
		s.trace.add(s.now, -1, "partition", s.sidesString())
	} else {
		p := s.cfg.Net.Partition
		next = min(gst, s.now+p/2+time.Duration(s.rng.Int64N(int64(p)+1)))
		if s.rng.IntN(3) == 0 {
			s.partitioned = false
			for i := range s.vals {
				s.vals[i].side = 0
			}
			s.trace.add(s.now, -1, "partition", "none until "+next.String())
		} else {
			sides := 2 + s.rng.IntN(2)
			for i := range s.vals {
				s.vals[i].side = uint8(1 + s.rng.IntN(sides))
			}
			s.partitioned = true
			s.trace.add(s.now, -1, "partition", s.sidesString()+" until "+next.String())
		}
	}
	s.schedule(&event{at: next, kind: evPartition})
}

func (s *sim) sidesString() string {
	b := []byte("sides")
	for i := range s.vals {
		b = append(b, ' ', 'n')
		b = appendInt(b, i)
		b = append(b, '=', '0'+s.vals[i].side)
	}
	return string(b)
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
