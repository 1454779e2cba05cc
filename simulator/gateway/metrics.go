package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the gateway's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec   // route, method, status
	duration     *prometheus.HistogramVec // route
	intents      *prometheus.GaugeVec     // status: intents now in each status
	transitions  *prometheus.CounterVec   // from, to
	declines     *prometheus.CounterVec   // code (decline_code, else error code)
	captured     prometheus.Counter       // minor units
	refunds      prometheus.Counter
	refunded     prometheus.Counter // minor units
	replays      prometheus.Counter
	idemConflict *prometheus.CounterVec // kind: in_flight | mismatch
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "API requests answered by the gateway simulator, by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "Time the gateway simulator took to answer, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		intents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_payment_intents", Help: "PaymentIntents in the books, by status.",
		}, []string{"status"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_intent_transitions_total", Help: "PaymentIntent status changes, by old and new status (from is empty for a creation).",
		}, []string{"from", "to"}),
		declines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_card_declines_total", Help: "Declined authorisations, by decline code.",
		}, []string{"code"}),
		captured: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_captured_amount_total", Help: "Money captured, in minor units (cents).",
		}),
		refunds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_refunds_total", Help: "Refunds created.",
		}),
		refunded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_refunded_amount_total", Help: "Money refunded, in minor units (cents).",
		}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_idempotent_replays_total", Help: "Responses replayed for a repeated Idempotency-Key.",
		}),
		idemConflict: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_idempotency_errors_total", Help: "Requests refused for their Idempotency-Key: in_flight (409) or mismatch (400).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.intents, m.transitions, m.declines, m.captured, m.refunds, m.refunded,
		m.replays, m.idemConflict, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.resetIntents()
	return m
}

// resetIntents zeroes the per-status gauge (after a reset of the books).
func (m *metrics) resetIntents() {
	for _, s := range intentStatuses {
		m.intents.WithLabelValues(s).Set(0)
	}
}

// transition counts an intent moving from one status to another ("" for a new intent).
func (m *metrics) transition(from, to string) {
	if from == to {
		return
	}
	if from != "" {
		m.intents.WithLabelValues(from).Dec()
	}
	m.intents.WithLabelValues(to).Inc()
	m.transitions.WithLabelValues(from, to).Inc()
}
