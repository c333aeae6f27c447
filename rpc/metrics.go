package rpc

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's own Prometheus metrics, served at /metrics with
// the node's.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	lagged   prometheus.Counter
	refused  prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "requests_total",
			Help: "JSON-RPC requests by method and result code (0: success).",
		}, []string{"method", "code"}),
		lagged: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "subscriptions_lagged_total",
			Help: "Subscriptions cut off because they read too slowly.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "connections_refused_total",
			Help: "Websocket upgrades refused at the connection limit.",
		}),
	}
	m.registry.MustRegister(m.requests, m.lagged, m.refused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "connections",
			Help: "Open websocket connections.",
		}, func() float64 { return float64(s.connCount.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "quorumchain", Subsystem: "rpc", Name: "subscriptions",
			Help: "Live subscriptions registered with the hub.",
		}, func() float64 { return float64(s.hub.Stats().Subscriptions) }),
	)
	return m
}

// request counts one request. method is one of the method table's names,
// "invalid" or "unknown", so the label set stays bounded.
func (m *metrics) request(method string, code int) {
	m.requests.WithLabelValues(method, strconv.Itoa(code)).Inc()
}
