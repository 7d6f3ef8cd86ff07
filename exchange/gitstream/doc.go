// Package gitstream reads `git fast-export` streams and writes `git
// fast-import` streams (the format of git-fast-import(1)). It is a pure
// codec: it knows nothing of stores.
//
// Reader parses a stream one command at a time, holding in memory only
// the command being read (a blob's data, or a commit's header and file
// operations), so any stream length is read in bounded memory. Bad input
// returns a *SyntaxError (wrapping ErrSyntax) naming the line and byte
// offset; it never panics. Writer writes commands, quoting paths as Git
// does.
package gitstream
