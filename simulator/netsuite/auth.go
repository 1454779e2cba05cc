package netsuite

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/doorbuster/doorbuster/simulator/tba"
)

// authenticate checks the request's token-based-authentication signature. A refused
// request gets 401 INVALID_LOGIN with NetSuite's WWW-Authenticate header; why it was
// refused goes to the log, never to the client (as NetSuite does).
func (s *Server) authenticate(c *gin.Context) {
	err := s.verifier.Verify(c.Request)
	if err == nil {
		c.Next()
		return
	}
	var te *tba.Error
	reason := "error"
	if errors.As(err, &te) {
		reason = te.Reason
	}
	s.metrics.authFailures.WithLabelValues(reason).Inc()
	s.log.Warn("netsuite: login refused", "reason", reason, "error", err.Error(),
		"method", c.Request.Method, "path", c.Request.URL.Path)
	realm := s.world.Credentials.AccountID
	if te != nil && te.Realm != "" && strings.EqualFold(te.Realm, realm) {
		realm = te.Realm
	}
	c.Set(ctxRoute, "auth")
	c.Header("WWW-Authenticate", tba.WWWAuthenticate(realm))
	writeError(c.Writer, &apiError{Status: http.StatusUnauthorized, Code: codeInvalidLogin,
		Detail: "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail."})
	c.Abort()
}
