package jetstream

// This file lets a mirror answer its origin's direct gets (mirror_direct),
// as officially: once the mirror is caught up (fewer than
// mirrorDirectCaughtUp messages pending upstream) it queue-subscribes
// $JS.API.DIRECT.GET.<origin> and $JS.API.DIRECT.GET.<origin>.> in the
// origin's own group "_sys_", so a direct get for the origin is answered
// by the origin or by any caught-up mirror on this server. The reply
// names the stream that answered (Nats-Stream: the mirror's name). The
// subscriptions stay until sourcing stops (stream deleted or its mirror
// settings updated), as officially: a mirror that falls behind again
// keeps answering with what it has.
//
// A direct get for <origin> lands on the direct-get goroutine like any
// other (handleDirect); with no local stream of that name it is served
// by the local mirror that subscribed (directStream).

// mirrorDirectCaughtUp is the upstream pending count under which a
// mirror starts answering its origin's direct gets (official
// dgetCaughtUpThresh).
const mirrorDirectCaughtUp = 10

// mirrorCaughtUp is called by the mirror's run with the upstream's
// pending count: the first time it is under mirrorDirectCaughtUp with
// mirror_direct set, the stream subscribes to its origin's direct gets.
func (r *sourceRun) mirrorCaughtUp(pending uint64) {
	if !r.mirror || r.directOn || pending >= mirrorDirectCaughtUp || !r.s.cfg.Load().MirrorDirect {
		return
	}
	r.directOn = true
	if err := r.s.subscribeMirrorDirect(r.src.Name); err != nil {
		r.s.e.log.Warn("JetStream mirror: cannot answer the origin's direct gets", "stream", r.s.name, "origin", r.src.Name, "err", err)
	}
}

// subscribeMirrorDirect subscribes the origin's direct-get subjects.
func (s *Stream) subscribeMirrorDirect(origin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mirrorDirectSubs) > 0 {
		return nil
	}
	for _, subj := range []string{apiPrefix + directPrefix + origin, apiPrefix + directPrefix + origin + ".>"} {
		sub, err := s.e.subscribe(subj, "_sys_", s.onDirect, false)
		if err != nil {
			s.unsubscribeMirrorDirectLocked()
			return err
		}
		s.mirrorDirectSubs = append(s.mirrorDirectSubs, sub)
	}
	return nil
}

// unsubscribeMirrorDirect drops them (sourcing stopped).
func (s *Stream) unsubscribeMirrorDirect() {
	s.mu.Lock()
	s.unsubscribeMirrorDirectLocked()
	s.mu.Unlock()
}

func (s *Stream) unsubscribeMirrorDirectLocked() {
	for _, sub := range s.mirrorDirectSubs {
		sub.Unsubscribe()
	}
	s.mirrorDirectSubs = nil
}

// answersDirectFor reports whether s is a mirror of origin answering its
// direct gets.
func (s *Stream) answersDirectFor(origin string) bool {
	s.mu.Lock()
	on := len(s.mirrorDirectSubs) > 0
	s.mu.Unlock()
	m := s.cfg.Load().Mirror
	return on && m != nil && m.Name == origin
}

// directStream is the stream that answers a direct get for name: the
// stream of that name, else a local mirror of it answering its direct
// gets, else nil.
func (e *Engine) directStream(name string) *Stream {
	if s := e.Stream(name); s != nil {
		return s
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, s := range e.streams {
		if s.answersDirectFor(name) {
			return s
		}
	}
	return nil
}
