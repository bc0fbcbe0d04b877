package web

import "context"

// HoldHashes takes every slot of the web sign-in share of password hashing
// (or, with authenticate, of /authenticate's) and returns what gives them
// back, so that tests can see what a request finds when all are busy.
func HoldHashes(s *Server, authenticate bool) (release func()) {
	l := s.signInHashes
	if authenticate {
		l = s.authHashes
	}
	var held []func()
	for range l.Slots() {
		r, err := l.Acquire(context.Background())
		if err != nil {
			panic(err)
		}
		held = append(held, r)
	}
	return func() {
		for _, r := range held {
			r()
		}
	}
}
