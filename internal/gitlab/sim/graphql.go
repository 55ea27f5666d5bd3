package sim

import "net/http"

type graphqlEndpoint struct{ s *Server }

func newGraphQLEndpoint(s *Server) (*graphqlEndpoint, error) { return &graphqlEndpoint{s: s}, nil }

func (g *graphqlEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "404 Not Found")
}
