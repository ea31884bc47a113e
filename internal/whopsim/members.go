package whopsim

// AddMember creates a user with direct customer access to an experience, as
// a member who joined its community would have. Load tests and benchmarks
// use it when the seeded three members are not enough.
func (s *Sim) AddMember(username, experienceID string) (User, error) {
	var u User
	err := s.update(func(st *State) ([]*Event, error) {
		e := st.Experiences[experienceID]
		if e == nil {
			return nil, notFound("experience", experienceID)
		}
		for _, existing := range st.Users {
			if existing.Username == username {
				return nil, badRequest("username %q is taken", username)
			}
		}
		u = User{ID: s.ids.id("user"), Username: username, Name: username, Email: username + "@example.com",
			CreatedAt: s.clock.Now()}
		st.Users[u.ID] = &u
		e.CustomerIDs = append(e.CustomerIDs, u.ID)
		return nil, nil
	})
	return u, err
}
