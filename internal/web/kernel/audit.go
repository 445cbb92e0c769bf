package kernel

import (
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/audit"
)

// Audited records ev for the request, as a failure naming err when err is
// not nil (audit.Log.RecordResult), and returns err.
func (k *Kernel) Audited(c *gin.Context, ev audit.Event, err error) error {
	return k.Audit.RecordResult(c.Request.Context(), ev, err)
}
