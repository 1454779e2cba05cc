package faults

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// RegisterAdmin adds the engine's admin API to r:
//
//	GET    /_sim/faults        {"target", "clockStart", "rules": [rule + "matched", "injected"]}
//	PUT    /_sim/faults        replace the rules with the body (rules file format, YAML or JSON)
//	POST   /_sim/faults        append the body's rules
//	DELETE /_sim/faults        remove every rule
//	GET    /_sim/events?since= injected-fault events after a sequence number or at/after an
//	                           RFC 3339 time: {"events": [{seq, time, rule, target, effect, method, path}]}
//	POST   /_sim/clock/start   restart the clock rule windows count from: {"clockStart"}
//
// Bad rules get 400 {"error": "…", "fields": [{"field", "line", "column", "message"}]}.
func (e *Engine) RegisterAdmin(r gin.IRouter) {
	r.GET("/_sim/faults", e.getFaults)
	r.PUT("/_sim/faults", e.putFaults)
	r.POST("/_sim/faults", e.postFaults)
	r.DELETE("/_sim/faults", e.deleteFaults)
	r.GET("/_sim/events", e.getEvents)
	r.POST("/_sim/clock/start", e.postClockStart)
}

// ruleView is a rule as the admin API shows it: the rules-file schema plus counts.
type ruleView struct {
	Rule
	Matched  int64 `json:"matched"`
	Injected int64 `json:"injected"`
}

func (v ruleView) MarshalJSON() ([]byte, error) {
	b, err := v.Rule.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// Splice the counts into the rule's object: {…rule…,"matched":n,"injected":m}.
	extra := `,"matched":` + strconv.FormatInt(v.Matched, 10) + `,"injected":` + strconv.FormatInt(v.Injected, 10) + `}`
	return append(b[:len(b)-1], extra...), nil
}

func (e *Engine) getFaults(c *gin.Context) {
	rules := e.Rules()
	views := make([]ruleView, len(rules))
	for i, r := range rules {
		views[i] = ruleView{r.Rule, r.Matched, r.Injected}
	}
	c.JSON(http.StatusOK, gin.H{"target": e.target, "clockStart": e.ClockStart(), "rules": views})
}

func (e *Engine) putFaults(c *gin.Context) {
	rules, ok := readRules(c)
	if !ok {
		return
	}
	if err := e.Replace(rules); err != nil {
		badRules(c, err)
		return
	}
	e.getFaults(c)
}

func (e *Engine) postFaults(c *gin.Context) {
	rules, ok := readRules(c)
	if !ok {
		return
	}
	if err := e.Append(rules...); err != nil {
		badRules(c, err)
		return
	}
	e.getFaults(c)
}

func (e *Engine) deleteFaults(c *gin.Context) {
	e.Clear()
	e.getFaults(c)
}

func (e *Engine) getEvents(c *gin.Context) {
	since := c.Query("since")
	var events []Event
	if since == "" {
		events = e.Events(0)
	} else if seq, err := strconv.ParseInt(since, 10, 64); err == nil {
		events = e.Events(seq)
	} else if t, err := time.Parse(time.RFC3339Nano, since); err == nil {
		events = e.EventsSince(t)
	} else {
		c.JSON(http.StatusBadRequest, gin.H{"error": "since: must be a sequence number or an RFC 3339 time like 2025-11-28T09:00:00Z, not " + strconv.Quote(since)})
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": events})
}

func (e *Engine) postClockStart(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"clockStart": e.StartClock()})
}

// readRules reads and parses a request body of rules, answering 400 itself on failure.
func readRules(c *gin.Context) ([]Rule, bool) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxRulesBytes+1))
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "reading the request body: " + err.Error()})
		return nil, false
	}
	rules, err := ParseRules(body)
	if err != nil {
		badRules(c, err)
		return nil, false
	}
	return rules, true
}

func badRules(c *gin.Context, err error) {
	var re *RulesError
	if errors.As(err, &re) {
		c.JSON(http.StatusBadRequest, gin.H{"error": re.Error(), "fields": re.Fields})
		return
	}
	c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
}
