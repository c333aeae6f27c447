package p2p

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Severity is how much a misbehaviour lowers a peer's score.
type Severity int

// Severities. A peer's score starts at zero, each penalty subtracts its
// severity, and the score recovers scoreRecoveryPerSecond points per second
// back towards zero. A peer whose score falls to -Config.BanThreshold is
// disconnected and banned for Config.BanDuration.
const (
	// PenaltyBudget is one message over its class's budget: a flood is
	// banned after about BanThreshold excess messages.
	PenaltyBudget Severity = 1
	// PenaltyMinor is something an honest but confused peer might do now
	// and then.
	PenaltyMinor Severity = 10
	// PenaltyFatal is something no honest peer does — a bad signature,
	// bytes that do not decode, evidence that does not verify, a bogus
	// sync answer — and bans at once.
	PenaltyFatal Severity = 1 << 20
)

// scoreRecoveryPerSecond is how fast a penalized score heals: a peer that
// goes over a budget now and then is never banned for it.
const scoreRecoveryPerSecond = 1.0

// Defaults of the ban settings.
const (
	DefaultBanThreshold = 100
	DefaultBanDuration  = 5 * time.Minute
)

// maxBans bounds each ban list; when full the ban nearest to its end goes
// first.
const maxBans = 4096

// scoreBoard keeps the scores of connected peers and the bans, by NodeID
// and by IP. Safe for concurrent use.
type scoreBoard struct {
	threshold float64
	duration  time.Duration

	mu     sync.Mutex
	scores map[NodeID]*peerScore
	ids    map[NodeID]ban
	ips    map[netip.Addr]ban
}

type peerScore struct {
	value float64 // <= 0
	at    time.Time
}

type ban struct {
	until  time.Time
	reason string
}

func newScoreBoard(threshold int, duration time.Duration) *scoreBoard {
	return &scoreBoard{
		threshold: float64(threshold), duration: duration,
		scores: make(map[NodeID]*peerScore), ids: make(map[NodeID]ban), ips: make(map[netip.Addr]ban),
	}
}

// penalize lowers id's score by sev at now and reports the score after,
// and whether it crossed the ban threshold.
func (b *scoreBoard) penalize(id NodeID, sev Severity, now time.Time) (score float64, banned bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.scores[id]
	if s == nil {
		s = &peerScore{at: now}
		b.scores[id] = s
	}
	s.heal(now)
	s.value -= float64(sev)
	return s.value, s.value <= -b.threshold
}

func (s *peerScore) heal(now time.Time) {
	if d := now.Sub(s.at); d > 0 {
		s.value = min(0, s.value+d.Seconds()*scoreRecoveryPerSecond)
	}
	s.at = now
}

// score returns id's current score (0 for a peer never penalized).
func (b *scoreBoard) score(id NodeID, now time.Time) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.scores[id]
	if s == nil {
		return 0
	}
	s.heal(now)
	return s.value
}

// forget is called when peer id leaves: a score that has healed is
// dropped, a penalized one is kept (while there is room) so that
// reconnecting does not wipe it. Bans stay.
func (b *scoreBoard) forget(id NodeID, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.scores[id]
	if s == nil {
		return
	}
	s.heal(now)
	if s.value == 0 || len(b.scores) > maxBans {
		delete(b.scores, id)
	}
}

// ban bans id, and ip if valid and not loopback, until now+d.
func (b *scoreBoard) ban(id NodeID, ip netip.Addr, reason string, d time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	entry := ban{until: now.Add(d), reason: reason}
	addBan(b.ids, id, entry, now)
	if bannableIP(ip) {
		addBan(b.ips, ip, entry, now)
	}
	delete(b.scores, id)
}

func addBan[K comparable](m map[K]ban, k K, entry ban, now time.Time) {
	if old, ok := m[k]; ok && old.until.After(entry.until) {
		return
	}
	if _, ok := m[k]; !ok && len(m) >= maxBans {
		var first K
		var soonest time.Time
		for key, v := range m {
			if !v.until.After(now) {
				delete(m, key)
				continue
			}
			if soonest.IsZero() || v.until.Before(soonest) {
				first, soonest = key, v.until
			}
		}
		if len(m) >= maxBans {
			delete(m, first)
		}
	}
	m[k] = entry
}

// bannableIP reports whether ip can be banned. Loopback addresses cannot:
// every node of a local network shares one, and a peer on our own host is
// the operator's, not a stranger's.
func bannableIP(ip netip.Addr) bool { return ip.IsValid() && !ip.Unmap().IsLoopback() }

// bannedID returns the ban of id in force at now, if any.
func (b *scoreBoard) bannedID(id NodeID, now time.Time) (ban, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return activeBan(b.ids, id, now)
}

// bannedIP returns the ban of ip in force at now, if any.
func (b *scoreBoard) bannedIP(ip netip.Addr, now time.Time) (ban, bool) {
	if !bannableIP(ip) {
		return ban{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return activeBan(b.ips, ip.Unmap(), now)
}

func activeBan[K comparable](m map[K]ban, k K, now time.Time) (ban, bool) {
	entry, ok := m[k]
	if !ok {
		return ban{}, false
	}
	if !entry.until.After(now) {
		delete(m, k)
		return ban{}, false
	}
	return entry, true
}

// hostIP parses the IP of a "host:port" address or a bare host; the zero
// Addr if it is a name or malformed.
func hostIP(addr string) netip.Addr {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// ErrBanned is why a connection from or to a banned node or address is
// refused.
var ErrBanned = errors.New("banned")

// Penalize lowers the score of peer id by sev for reason. A peer whose
// score reaches -Config.BanThreshold is disconnected and banned (by NodeID
// and by IP) for Config.BanDuration, and the ban is logged with reason.
// Layers above the Switch call it for misbehaviour only they can see (bad
// evidence, a forged sync answer); a Handler error wrapping
// ErrInvalidPeerData penalizes with PenaltyFatal. It reports whether the
// peer was banned. Safe for concurrent use; a no-op for a peer not
// connected.
func (s *Switch) Penalize(id NodeID, reason string, sev Severity) bool {
	s.mu.RLock()
	p := s.peers[id]
	s.mu.RUnlock()
	if p == nil || sev <= 0 {
		return false
	}
	s.stats.penalties.Add(1)
	score, over := s.scores.penalize(id, sev, time.Now())
	if !over {
		s.logger.Debug("peer penalized", "peer", id.String(), "reason", reason, "score", score)
		return false
	}
	s.banPeer(p, reason, s.cfg.BanDuration)
	return true
}

// Ban disconnects peer id if connected and refuses it, and the IP it is
// connected from, for d (Config.BanDuration if d <= 0). The ban and reason
// are logged.
func (s *Switch) Ban(id NodeID, reason string, d time.Duration) {
	if d <= 0 {
		d = s.cfg.BanDuration
	}
	s.mu.RLock()
	p := s.peers[id]
	s.mu.RUnlock()
	if p != nil {
		s.banPeer(p, reason, d)
		return
	}
	s.scores.ban(id, netip.Addr{}, reason, d, time.Now())
	s.stats.bans.Add(1)
	s.logger.Warn("banned peer", "peer", id.String(), "reason", reason, "for", d)
}

func (s *Switch) banPeer(p *peer, reason string, d time.Duration) {
	ip := hostIP(p.info.Addr)
	s.scores.ban(p.info.ID, ip, reason, d, time.Now())
	s.stats.bans.Add(1)
	attrs := []any{"peer", p.info.ID.String(), "addr", p.info.Addr, "reason", reason, "for", d}
	if !bannableIP(ip) {
		attrs = append(attrs, "ip_banned", false)
	}
	s.logger.Warn("banned peer", attrs...)
	p.stop("banned: " + reason)
}

// bannedHello reports whether the node a Hello names is banned; the
// handshake refuses it before spending a signature on it. (A node that
// claims a banned ID it does not own only gets itself refused.)
func (s *Switch) bannedHello(id NodeID) bool {
	if _, ok := s.scores.bannedID(id, time.Now()); ok {
		s.stats.bannedRefused.Add(1)
		return true
	}
	return false
}

// Banned reports whether id is banned now, and why.
func (s *Switch) Banned(id NodeID) (reason string, until time.Time, ok bool) {
	b, ok := s.scores.bannedID(id, time.Now())
	return b.reason, b.until, ok
}

// PeerScore returns the current score of peer id: 0 for a peer in good
// standing, down to -Config.BanThreshold.
func (s *Switch) PeerScore(id NodeID) float64 { return s.scores.score(id, time.Now()) }
