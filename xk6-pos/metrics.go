package pos

import (
	"fmt"

	"github.com/doorbuster/doorbuster/loadgen"
)

// Names of the module's metrics. Every sample carries the scenario and the tags flow and
// store; the ones below carry more where said.
const (
	// MetricTransactions counts transactions by final outcome, tagged type and outcome:
	// acknowledged or rejected when the connector answered (online, or in a batch);
	// voided and abandoned for sales that never reached the connector. A transaction in
	// an offline queue is counted when its batch is answered (pos_offline_queue shows
	// the queue meanwhile); one still queued at Close is journaled unacknowledged.
	MetricTransactions = "pos_transactions"
	// MetricCheckoutDuration is from the iteration's intended start to the connector's
	// acknowledgement of the transaction (online submissions only).
	MetricCheckoutDuration = "pos_checkout_duration"
	MetricScanDuration     = "pos_scan_duration"    // one item lookup, misreads included
	MetricPaymentDuration  = "pos_payment_duration" // one card payment, create to capture; tagged outcome
	MetricOfflineQueue     = "pos_offline_queue"    // transactions held in offline queues, all registers
	MetricDeclines         = "pos_declines"         // declined card payments, tagged decline_code
	MetricPayments         = "pos_payments"         // card payment attempts, tagged outcome
	MetricSoldOut          = "pos_sold_out"         // lines dropped because the shelf was empty
)

type metrics struct {
	transactions, checkout, scan, payment, offlineQueue, declines, payments, soldOut *loadgen.Metric
}

func newMetrics(reg *loadgen.Registry) (*metrics, error) {
	m := &metrics{}
	for _, d := range []struct {
		dst      **loadgen.Metric
		name     string
		typ      loadgen.MetricType
		contains loadgen.ValueType
	}{
		{&m.transactions, MetricTransactions, loadgen.Counter, loadgen.Default},
		{&m.checkout, MetricCheckoutDuration, loadgen.Trend, loadgen.Time},
		{&m.scan, MetricScanDuration, loadgen.Trend, loadgen.Time},
		{&m.payment, MetricPaymentDuration, loadgen.Trend, loadgen.Time},
		{&m.offlineQueue, MetricOfflineQueue, loadgen.Gauge, loadgen.Default},
		{&m.declines, MetricDeclines, loadgen.Counter, loadgen.Default},
		{&m.payments, MetricPayments, loadgen.Counter, loadgen.Default},
		{&m.soldOut, MetricSoldOut, loadgen.Counter, loadgen.Default},
	} {
		met, err := reg.New(d.name, d.typ, d.contains)
		if err != nil {
			return nil, fmt.Errorf("pos: register metric %s: %w", d.name, err)
		}
		*d.dst = met
	}
	return m, nil
}
