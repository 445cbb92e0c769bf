package web

// Routes lists the router's method and path pairs, as Gin holds them
// ("/api/v1/jobs/:id"), for the authorization matrix.
func Routes(d Deps) ([][2]string, error) {
	_, r, err := newRouter(d)
	if err != nil {
		return nil, err
	}
	var routes [][2]string
	for _, route := range r.Routes() {
		routes = append(routes, [2]string{route.Method, route.Path})
	}
	return routes, nil
}

// NewReplica is New that also returns a report of whether the server's API
// token cache is live (its invalidation subscription confirmed), for tests
// that wait for it.
func NewReplica(d Deps) (*Handler, func() bool, error) {
	s, r, err := newRouter(d)
	if err != nil {
		return nil, nil, err
	}
	return &Handler{Handler: s.WithSessions(r), stop: s.StartBackground()}, s.TokenCacheLive, nil
}
