package kernel

import "github.com/gin-gonic/gin"

// GetOrHead routes GET and HEAD of path to h: HEAD is a GET whose body
// net/http drops, and monitors and link checkers rely on it.
func GetOrHead(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}
