package pos

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // the real gateway is a gin engine: no route dump
	os.Exit(m.Run())
}
