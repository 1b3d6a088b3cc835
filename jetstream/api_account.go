package jetstream

// This file answers $JS.API.INFO: the account's usage, limits and API
// counters. Fern has one account and no per-account limits, so limits are
// -1 (unlimited) as for the official default account.
//
// api.level is 5, the official 2.15 level: Fern decodes every field that
// levels 1 to 5 introduce, so a request that requires level 5 (a
// downstream's sourcing consumer create sends Nats-Required-Api-Level: 5)
// is understood. The level 1+ features Fern lacks (per-message TTL,
// counters, batches, schedules, ...) are refused explicitly when set, with
// a 10052 "not implemented in fern" error, never silently ignored.
const apiLevel = 5

func (e *Engine) apiAccountInfo(_ string, m inMsg) any {
	var req struct{}
	if err := decodeStrict(m.data, &req); err != nil {
		return errorReply(typeAccountInfo, err)
	}
	resp := &accountInfoResponse{
		apiResponse: apiResponse{Type: typeAccountInfo},
		Limits: accountLimits{
			MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1,
			MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
		},
		Domain: e.cfg.Domain,
		// This request is counted once its reply goes out.
		API: apiStats{Level: apiLevel, Total: e.apiTotal.Load() + 1, Errors: e.apiErrors.Load()},
	}
	for _, s := range e.sortedStreams() {
		cfg := s.Config()
		bytes := s.st.State().Bytes
		if cfg.Storage == MemoryStorage {
			resp.Memory += bytes
			if cfg.MaxBytes > 0 {
				resp.ReservedMemory += uint64(cfg.MaxBytes)
			}
		} else {
			resp.Store += bytes
			if cfg.MaxBytes > 0 {
				resp.ReservedStore += uint64(cfg.MaxBytes)
			}
		}
		resp.Streams++
	}
	resp.Consumers = e.consumerCount("")
	return resp
}
