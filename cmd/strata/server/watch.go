package server

// watchRoutes registers this file's routes.
func (s *Server) watchRoutes() {}
