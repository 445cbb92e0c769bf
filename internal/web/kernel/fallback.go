package kernel

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// NoRoute answers an unknown address: JSON under /api/, a page in the
// layout everywhere else.
func (k *Kernel) NoRoute(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		Abort(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"})
		return
	}
	k.identifyQuietly(c)
	k.ErrorPage(c, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// NoMethod is NoRoute for a known address asked with the wrong
// method.
func (k *Kernel) NoMethod(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		Abort(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
		return
	}
	k.identifyQuietly(c)
	k.ErrorPage(c, http.StatusMethodNotAllowed, "Not possible here", "This address cannot be used this way.")
}

// identifyQuietly is Identify for error pages outside the site's routes:
// the layout shows who is signed in, and a failure to tell only leaves the
// page anonymous.
func (k *Kernel) identifyQuietly(c *gin.Context) {
	if user, err := k.SessionUser(c); err == nil && user != nil {
		setUser(c, user)
	}
}
