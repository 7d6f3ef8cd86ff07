package server

// proofRoutes registers this file's routes.
func (s *Server) proofRoutes() {}
