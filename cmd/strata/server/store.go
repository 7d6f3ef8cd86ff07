package server

// storeRoutes registers this file's routes.
func (s *Server) storeRoutes() {}
