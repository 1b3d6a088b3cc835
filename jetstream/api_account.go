package jetstream

// This file answers $JS.API.INFO: the account's usage, limits and API
// counters. Fern has one account and no per-account limits, so limits are
// -1 (unlimited) as for the official default account. api.level is 0:
// Fern implements none of the features that levels 1 and up announce
// (per-message TTL, counters, batches, ...).

const apiLevel = 0

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
