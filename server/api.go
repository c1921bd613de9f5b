package server

// apiRoutes are the authenticated JSON API's routes over leads and
// contacts.
func (s *Server) apiRoutes() []route {
	return nil
}
