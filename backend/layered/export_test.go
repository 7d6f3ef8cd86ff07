package layered

// HoldWatch locks s's watch state, so that the watch stalls at its next
// event, until the returned function is called. s must have a watch.
func HoldWatch(s *Store) (release func()) {
	s.w.mu.Lock()
	return s.w.mu.Unlock
}
