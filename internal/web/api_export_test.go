package web

// APIRoutes returns the pattern of every API route, so that the
// authorisation matrix can check it covers them all.
func APIRoutes() []string {
	var patterns []string
	for _, rt := range (&Server{}).apiTable() {
		patterns = append(patterns, rt.pattern)
	}
	return patterns
}
