package netsuite

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the simulator's Prometheus metrics, on the server's own registry.
type metrics struct {
	requests             *prometheus.CounterVec   // route, method, status
	duration             *prometheus.HistogramVec // route
	inFlight             prometheus.Gauge
	slotsInUse           prometheus.Gauge
	governanceRejections prometheus.Counter
	authFailures         *prometheus.CounterVec // reason
	asyncJobs            *prometheus.CounterVec // outcome
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsuite_requests_total", Help: "Requests answered, by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "netsuite_request_duration_seconds", Help: "Time to answer a request, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netsuite_requests_in_flight", Help: "Requests being served.",
		}),
		slotsInUse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netsuite_governance_slots_in_use", Help: "Governance slots held by requests and async jobs.",
		}),
		governanceRejections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netsuite_governance_rejections_total", Help: "Requests refused with 429 CONCURRENCY_LIMIT_EXCEEDED.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsuite_auth_failures_total", Help: "Requests refused with 401 INVALID_LOGIN, by reason.",
		}, []string{"reason"}),
		asyncJobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netsuite_async_jobs_total", Help: "Async jobs finished, by outcome.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.slotsInUse, m.governanceRejections, m.authFailures, m.asyncJobs)
	return m
}

func promHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// observe counts every request by route and status and tracks in-flight requests.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		route := "other"
		if v, ok := c.Get(ctxRoute); ok {
			route, _ = v.(string)
		} else if p := c.FullPath(); p != "" {
			route = p
		}
		s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}()
	c.Next()
}
