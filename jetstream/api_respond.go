package jetstream

// RespondHeader publishes an API reply like Respond, with hdr (a raw
// header block, or nil) in front of the JSON body. Safe for concurrent
// use.
func (e *Engine) RespondHeader(reply string, hdr []byte, v any) {
	body, err := marshalReply(v)
	if err != nil {
		e.log.Error("JetStream reply not encodable", "err", err)
		return
	}
	e.respondMu.Lock()
	e.respondPub.Publish(reply, "", hdr, body)
	e.respondMu.Unlock()
}
