package server

// consoleRoutes registers this file's routes.
func (s *Server) consoleRoutes() {}
