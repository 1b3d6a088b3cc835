package jetstream

import "fmt"

// This file holds the API errors of mirror and sources configs
// (source_config.go), with the official numbers, HTTP codes and texts
// (nats-server errors.json), in err_code order. "Invalid config" cases
// (10052) use errStreamInvalidConfig.

func errExternalAPIOverlap(prefix string) *APIError {
	return apiErr(400, 10021, fmt.Sprintf("stream external api prefix %s must not overlap with $JS.API", prefix))
}

func errExternalDeliverOverlaps(prefix, subj string) *APIError {
	return apiErr(400, 10022, fmt.Sprintf("stream external delivery prefix %s overlaps with stream subject %s", prefix, subj))
}

func errExternalDeliverInvalid(prefix string) *APIError {
	return apiErr(400, 10024, fmt.Sprintf("stream external delivery prefix %s must not contain wildcards", prefix))
}

func errMirrorMaxMsgSize() *APIError {
	return apiErr(400, 10030, "stream mirror must have max message size >= source")
}

func errMirrorWithSources() *APIError {
	return apiErr(400, 10031, "stream mirrors can not also contain other sources")
}

func errMirrorWithSubjects() *APIError {
	return apiErr(400, 10034, "stream mirrors can not contain subjects")
}

func errSourceMaxMsgSize() *APIError {
	return apiErr(400, 10046, "stream source must have max message size >= target")
}

func errMirrorNotUpdatable() *APIError {
	return apiErr(400, 10055, "stream mirror configuration can not be updated")
}

func errSourceDuplicate() *APIError {
	return apiErr(400, 10140, "duplicate source configuration detected")
}

func errSourceInvalidName() *APIError {
	return apiErr(400, 10141, "sourced stream name is invalid")
}

func errMirrorInvalidName() *APIError {
	return apiErr(400, 10142, "mirrored stream name is invalid")
}

func errMirrorWithFirstSeq() *APIError {
	return apiErr(400, 10143, "stream mirrors can not have first sequence configured")
}

func errSourceMultipleFilters() *APIError {
	return apiErr(400, 10144, "source with multiple subject transforms cannot also have a single subject filter")
}

func errSourceTransformSource(why string) *APIError {
	return apiErr(400, 10145, "source transform source: "+why)
}

func errSourceTransformDest(why string) *APIError {
	return apiErr(400, 10146, "source transform: "+why)
}

func errSourceFiltersOverlap() *APIError {
	return apiErr(400, 10147, "source filters can not overlap")
}

func errMirrorMultipleFilters() *APIError {
	return apiErr(400, 10150, "mirror with multiple subject transforms cannot also have a single subject filter")
}

func errMirrorTransformSource(why string) *APIError {
	return apiErr(400, 10151, "mirror transform source: "+why)
}

func errMirrorFiltersOverlap() *APIError {
	return apiErr(400, 10152, "mirror subject filters can not overlap")
}

func errMirrorTransformDest(why string) *APIError {
	return apiErr(400, 10154, "mirror transform: "+why)
}

func errMirrorWithCounters() *APIError {
	return apiErr(400, 10173, "stream mirrors can not also calculate counters")
}

func errMirrorWithSchedules() *APIError {
	return apiErr(400, 10186, "stream mirrors can not also schedule messages")
}

func errSourceWithSchedules() *APIError {
	return apiErr(400, 10187, "stream source can not also schedule messages")
}

func errMirrorWithAtomic() *APIError {
	return apiErr(400, 10198, "stream mirrors can not also use atomic publishing")
}

func errMirrorWithBatch() *APIError {
	return apiErr(400, 10209, "stream mirrors can not also use batch publishing")
}

func errMirrorConsumerInvalid() *APIError {
	return apiErr(400, 10213, "stream mirror consumer config is invalid")
}

func errSourceConsumerInvalid() *APIError {
	return apiErr(400, 10215, "stream source consumer config is invalid")
}

func errSourceConsumerDuplicate() *APIError {
	return apiErr(400, 10216, "duplicate stream source consumer detected")
}
