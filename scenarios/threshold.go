package scenarios

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MetricType is the type of a metric, which decides its threshold aggregations.
type MetricType string

// The metric types, as k6's.
const (
	Counter MetricType = "counter"
	Gauge   MetricType = "gauge"
	Rate    MetricType = "rate"
	Trend   MetricType = "trend"
)

// KnownMetric returns the type of a built-in metric (k6's and Doorbuster's POS metrics), and
// whether its values are times. ok is false for a metric this package does not know, such
// as a custom one.
func KnownMetric(name string) (typ MetricType, isTime, ok bool) {
	switch name {
	case "iterations", "dropped_iterations", "data_sent", "data_received", "http_reqs", "pos_transactions":
		return Counter, false, true
	case "vus", "vus_max", "pos_offline_queue", "connector_backlog":
		return Gauge, false, true
	case "checks", "http_req_failed":
		return Rate, false, true
	case "iteration_duration", "http_req_duration", "http_req_blocked", "http_req_connecting",
		"http_req_tls_handshaking", "http_req_sending", "http_req_waiting", "http_req_receiving",
		"pos_checkout_duration", "pos_scan_duration", "pos_payment_duration", "pos_sync_latency":
		return Trend, true, true
	}
	return "", false, false
}

var (
	thresholdExpr = regexp.MustCompile(`^\s*(avg|min|med|max|p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\)|rate|count|value)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(ns|us|µs|ms|s|m|h)?\s*$`)
	metricName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]{0,127}$`)
)

// aggregations lists the aggregations a metric type accepts in thresholds.
func aggregations(t MetricType) []string {
	switch t {
	case Counter:
		return []string{"count", "rate"}
	case Gauge:
		return []string{"value"}
	case Rate:
		return []string{"rate"}
	case Trend:
		return []string{"avg", "min", "med", "max", "p(N)"}
	}
	return nil
}

// checkThresholdKey checks "metric" or "metric{tag:value,…}" and returns the metric name.
func checkThresholdKey(key string) (string, error) {
	name, filter, hasFilter := strings.Cut(key, "{")
	if !metricName.MatchString(name) {
		return "", fmt.Errorf("expected a metric name like http_req_duration, got %q", name)
	}
	if !hasFilter {
		return name, nil
	}
	filter, ok := strings.CutSuffix(filter, "}")
	if !ok || strings.ContainsAny(filter, "{}") {
		return "", fmt.Errorf("expected tag filters like {scenario:checkout} after the metric name, got %q", key[len(name):])
	}
	if strings.TrimSpace(filter) == "" {
		return "", fmt.Errorf("empty tag filter {}: give tag:value pairs or leave the braces out")
	}
	for _, pair := range strings.Split(filter, ",") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("expected tag filters as tag:value pairs separated by commas, got %q", strings.TrimSpace(pair))
		}
	}
	return name, nil
}

// checkThresholdExpr checks an expression's grammar and, for a known metric, that the
// aggregation and unit fit the metric's type.
func checkThresholdExpr(metric, expr string) error {
	m := thresholdExpr.FindStringSubmatch(expr)
	if m == nil {
		return fmt.Errorf(`expected a threshold like "p(95)<2s" or "rate<0.01" (aggregation avg|min|med|max|p(N)|rate|count|value, operator < <= > >= == !=, a number), got %q`, expr)
	}
	agg, pct, unit := m[1], m[2], m[5]
	if pct != "" {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || p <= 0 || p > 100 {
			return fmt.Errorf("percentile in %q must be more than 0 and at most 100", expr)
		}
		agg = "p(N)"
	}
	typ, isTime, known := KnownMetric(metric)
	if !known {
		return nil
	}
	aggs := aggregations(typ)
	ok := false
	for _, a := range aggs {
		ok = ok || a == agg
	}
	if !ok {
		return fmt.Errorf("%s is a %s metric: its thresholds use %s, not %s", metric, typ, strings.Join(aggs, ", "), m[1])
	}
	if unit != "" && !isTime {
		return fmt.Errorf("%s does not measure time: write %q without the unit %s", metric, expr, unit)
	}
	return nil
}
