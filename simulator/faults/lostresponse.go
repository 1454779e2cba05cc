package faults

// LostResponse lets the simulator's handler run to the end — the write commits in the
// books — and then resets the connection instead of sending its answer. The client cannot
// tell whether its request took effect: only an idempotent retry is safe.
//
//	lostResponse: {}
type LostResponse struct{}

var _ Effect = (*LostResponse)(nil)

// Name returns "lostResponse".
func (*LostResponse) Name() string { return "lostResponse" }

// Apply runs the handler into a buffer, then resets the connection.
func (*LostResponse) Apply(x *Exchange) {
	x.Next(newRecorder())
	if err := resetConn(x.W); err != nil {
		x.Log.Warn("faults: lostResponse could not reset the connection", "rule", x.Rule, "err", err)
	}
}
