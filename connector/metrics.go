package connector

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the connector's own Prometheus metrics, on its own registry.
type metrics struct {
	reg         *prometheus.Registry
	accepted    prometheus.Counter
	duplicates  prometheus.Counter
	rejected    prometheus.Counter
	posted      prometheus.Counter
	deadLetters prometheus.Counter
	retries     *prometheus.CounterVec
	postLatency prometheus.Histogram // one posting attempt that succeeded, end to end
	syncLatency prometheus.Histogram // accepted → posted
}

func newMetrics(depth func() (pending, inFlight float64), deadLettered func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "connector_transactions_accepted_total",
			Help: "Transactions stored in the outbox."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "connector_transactions_duplicate_total",
			Help: "Resubmissions of a transaction already accepted."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "connector_transactions_rejected_total",
			Help: "Transactions refused as invalid."}),
		posted: prometheus.NewCounter(prometheus.CounterOpts{Name: "connector_transactions_posted_total",
			Help: "Transactions posted to NetSuite."}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{Name: "connector_dead_letters_total",
			Help: "Transactions dead-lettered after a permanent error."}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "connector_retries_total",
			Help: "Posting attempts that failed and will be retried, by cause."}, []string{"cause"}),
		postLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "connector_post_duration_seconds",
			Help:    "Time of the successful posting attempt of a transaction (customer, refund and records).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		syncLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "connector_sync_latency_seconds",
			Help:    "Time from acceptance to posting.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}),
	}
	for _, c := range []string{causeThrottled, causeServer, causeTimeout, causeNetwork, causeMalformed, causeAuth, causeConflict} {
		m.retries.WithLabelValues(c)
	}
	depthDesc := prometheus.NewDesc("connector_outbox_depth", "Transactions in the outbox not yet posted or dead-lettered, by state.", []string{"state"}, nil)
	m.reg.MustRegister(m.accepted, m.duplicates, m.rejected, m.posted, m.deadLetters, m.retries, m.postLatency, m.syncLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		depthCollector{desc: depthDesc, depth: depth},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "connector_dead_letters",
			Help: "Transactions dead-lettered in the outbox (kept across restarts)."}, deadLettered))
	return m
}

// depthCollector reports the outbox depth when scraped.
type depthCollector struct {
	desc  *prometheus.Desc
	depth func() (pending, inFlight float64)
}

func (d depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }
func (d depthCollector) Collect(ch chan<- prometheus.Metric) {
	p, f := d.depth()
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, p, "pending")
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, f, "inFlight")
}
