package fern

import "github.com/fernmq/fern/protocol"

// Interest from a route (RS+/RS-) or a leaf (LS+/LS-) is stored the same
// way: one subscription per (subject, queue) owned by the connection,
// keyed "subject[ queue]", with the member count of a queue group as its
// weight (missing or invalid weights count as 1).

// processRemoteSub stores or updates the peer's interest in subject.
func (c *client) processRemoteSub(f *protocol.Frame) error {
	key := remoteSubKey(f.Subject, f.Queue)
	weight := int32(max(f.Weight, 1))
	c.mu.Lock()
	sub := c.subs[string(key)]
	c.mu.Unlock()
	if sub != nil {
		sub.weight.Store(weight)
		return nil
	}
	sub = &subscription{client: c, subject: string(f.Subject), queue: string(f.Queue), sid: key}
	sub.weight.Store(weight)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errStop
	}
	c.subs[string(key)] = sub
	c.mu.Unlock()
	if err := c.srv.addSub(sub); err != nil {
		c.mu.Lock()
		delete(c.subs, string(key))
		c.mu.Unlock()
		c.log.Debug("ignoring interest in an invalid subject", "op", f.Op.String(), "subject", string(f.Subject))
	}
	return nil
}

// processRemoteUnsub drops the peer's interest in subject.
func (c *client) processRemoteUnsub(f *protocol.Frame) error {
	key := remoteSubKey(f.Subject, f.Queue)
	c.mu.Lock()
	sub := c.subs[string(key)]
	delete(c.subs, string(key))
	c.mu.Unlock()
	if sub != nil {
		c.srv.removeSub(sub)
	}
	return nil
}

// remoteSubKey names a peer's subscription: subject, and queue if any.
func remoteSubKey(subj, queue []byte) []byte {
	k := make([]byte, 0, len(subj)+1+len(queue))
	k = append(k, subj...)
	if len(queue) > 0 {
		k = append(k, ' ')
		k = append(k, queue...)
	}
	return k
}
