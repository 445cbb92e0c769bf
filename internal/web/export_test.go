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
