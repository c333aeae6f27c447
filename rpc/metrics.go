package rpc

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Refusal reasons: the label values of quorumchain_rpc_refusals_total, one
// per defence. They are stable; dashboards and alerts may match on them.
const (
	refusedOrigin        = "origin"          // -32012, HTTP 403
	refusedHTTPBusy      = "http_busy"       // -32013, HTTP 503
	refusedRate          = "rate"            // -32014
	refusedResponseSize  = "response_size"   // -32015
	refusedTimeout       = "timeout"         // -32016
	refusedMessageSize   = "message_size"    // -32007 (HTTP 413, or websocket closed with 1009)
	refusedConnections   = "connections"     // -32008, HTTP 503 at the upgrade
	refusedSubscriptions = "subscriptions"   // -32005
	refusedBatchSize     = "batch_size"      // -32600 for a batch over Config.MaxBatchItems
	refusedReplayBudget  = "replay_budget"   // a replay ended at its scan budget (lagged result)
	refusedSlow          = "slow_subscriber" // a subscription cut off as lagged
)

var refusalReasons = []string{refusedOrigin, refusedHTTPBusy, refusedRate, refusedResponseSize, refusedTimeout,
	refusedMessageSize, refusedConnections, refusedSubscriptions, refusedBatchSize, refusedReplayBudget, refusedSlow}

// refusalOf returns the refusal reason of an error code sent in a
// response, or "" when the code is not a refusal.
func refusalOf(code int) string {
	switch code {
	case CodeForbiddenOrigin:
		return refusedOrigin
	case CodeBusy:
		return refusedHTTPBusy
	case CodeRateLimited:
		return refusedRate
	case CodeResponseTooLarge:
		return refusedResponseSize
	case CodeTimeout:
		return refusedTimeout
	case CodeMessageTooLarge:
		return refusedMessageSize
	case CodeTooManyConnections:
		return refusedConnections
	case CodeTooManySubscriptions:
		return refusedSubscriptions
	}
	return ""
}

// metrics are the server's own Prometheus metrics, served at /metrics with
// the node's.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	lagged    prometheus.Counter
	refused   prometheus.Counter
	callWaits prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "requests_total",
			Help: "JSON-RPC requests by method and result code (0: success).",
		}, []string{"method", "code"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "refusals_total",
			Help: "Requests, connections and subscriptions refused or cut short by a limit, by reason.",
		}, []string{"reason"}),
		lagged: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "subscriptions_lagged_total",
			Help: "Subscriptions cut off because they read too slowly.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "connections_refused_total",
			Help: "Websocket upgrades refused at the connection limit.",
		}),
		callWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "websocket_inflight_waits_total",
			Help: "Times a websocket's read loop waited for one of its in-flight messages to finish (MaxInflightPerConn).",
		}),
	}
	for _, r := range refusalReasons {
		m.refusals.WithLabelValues(r) // export every reason from the start, at 0
	}
	m.registry.MustRegister(m.requests, m.refusals, m.lagged, m.refused, m.callWaits,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "connections",
			Help: "Open websocket connections.",
		}, func() float64 { return float64(s.connCount.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "subscriptions",
			Help: "Live subscriptions registered with the hub.",
		}, func() float64 { return float64(s.hub.Stats().Subscriptions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "http_requests_inflight",
			Help: "HTTP POSTs being served (MaxHTTPRequests bounds them).",
		}, func() float64 { return float64(len(s.httpSlots)) }),
	)
	return m
}

// request counts one request. method is one of the method table's names,
// "invalid" or "unknown", so the label set stays bounded.
func (m *metrics) request(method string, code int) {
	m.requests.WithLabelValues(method, strconv.Itoa(code)).Inc()
}

// refuse counts one refusal; reason is one of refusalReasons.
func (m *metrics) refuse(reason string) {
	m.refusals.WithLabelValues(reason).Inc()
}
