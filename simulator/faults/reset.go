package faults

// Reset closes the TCP connection with an RST before answering; the simulator's handler does
// not run. The client reads "connection reset by peer".
//
//	reset: {}
type Reset struct{}

var _ Effect = (*Reset)(nil)

// Name returns "reset".
func (*Reset) Name() string { return "reset" }

// Apply resets the connection.
func (*Reset) Apply(x *Exchange) {
	if err := resetConn(x.W); err != nil {
		x.Log.Warn("faults: reset could not reset the connection", "rule", x.Rule, "err", err)
	}
}
