package server

// apiRoutes registers this file's routes.
func (s *Server) apiRoutes() {}
