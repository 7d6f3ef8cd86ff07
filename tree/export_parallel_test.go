package tree

// SetParallelism sets the most goroutines one write uses and returns a
// function that restores the previous value.
func SetParallelism(n int) (restore func()) {
	old := parallelism
	parallelism = n
	return func() { parallelism = old }
}
