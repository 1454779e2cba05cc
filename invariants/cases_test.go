package invariants

import (
	"testing"
)

func TestCheckScriptedRun(t *testing.T) {
	sc := runScript(t)
	t.Run("clean", func(t *testing.T) {
		r := check(t, copyRun(t, sc.dir), Options{})
		dumpReport(t, r)
		for _, x := range r.Invariants {
			if x.Verdict != Pass {
				t.Errorf("%s: %s (%s), want pass on a clean run", x.ID, x.Verdict, x.Reason)
			}
		}
	})
}
