package server

// APIRoutes lists every method and pattern of the routes under /api/, for
// the tests that hold each of them to the credential rules.
func (s *Server) APIRoutes() (routes [][2]string) {
	for _, r := range s.routes() {
		if len(r.pattern) >= 5 && r.pattern[:5] == "/api/" {
			for m := range r.methods {
				routes = append(routes, [2]string{m, r.pattern})
			}
		}
	}
	return routes
}
