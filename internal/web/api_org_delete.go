package web

import "net/http"

// apiOrgDelete deletes an organisation with its users, contacts, queued
// and decided requests, tokens and admins; staff only. Its audit entries
// stay, under its slug. It answers what went.
func (s *Server) apiOrgDelete(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	d, err := s.deleteOrg(r.Context(), p, slug)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgDeletedJSON{Org: slug, Users: d.Users, Contacts: d.Contacts, QueuedRequests: d.Pending})
	return nil
}
