package jetstream

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/fernmq/fern/subject"
)

// This file validates the mirror and sources of a stream config, in the
// official order (nats-server checkStreamCfgLocked, configUpdateCheck):
//
//   - checkSourcing: what a config says on its own (normalizeConfig);
//   - checkSourcingAgainst: what needs the other local streams (size
//     limits, delivery prefix overlap, cycles, mirror_direct), called by
//     the API after normalizeConfig;
//   - checkSourcingUpdate: what an update may change (checkUpdate).
//
// An upstream need not exist: an unknown upstream, or one with external
// set (another domain or account, which may reuse a local name), skips
// the checks that need it. sourceIName is the index name that tells two
// sources apart.

// jsAPIPrefix is the API prefix an external api prefix must not collide
// with.
const jsAPIPrefix = "$JS.API"

// checkSourcing applies the mirror and sources checks that need no other
// stream. Mirror checks come first; a mirror with sources is refused
// before any source is looked at. No rule here depends on pedantic; it is
// taken so that a future one can.
func checkSourcing(cfg *StreamConfig, pedantic bool) *APIError {
	if cfg.Mirror != nil {
		if e := checkMirror(cfg); e != nil {
			return e
		}
	}
	if len(cfg.Sources) > 0 && cfg.AllowMsgSchedules {
		return errSourceWithSchedules()
	}
	inames := make(map[string]struct{}, len(cfg.Sources))
	cnames := make(map[string]struct{})
	for _, src := range cfg.Sources {
		if e := checkSource(src, inames, cnames); e != nil {
			return e
		}
	}
	return checkExternals(cfg)
}

// checkMirror checks cfg.Mirror and what a mirror's stream may not have.
func checkMirror(cfg *StreamConfig) *APIError {
	m := cfg.Mirror
	switch {
	case cfg.FirstSeq > 0:
		return errMirrorWithFirstSeq()
	case len(cfg.Subjects) > 0:
		return errMirrorWithSubjects()
	case len(cfg.Sources) > 0:
		return errMirrorWithSources()
	case cfg.AllowMsgCounter:
		return errMirrorWithCounters()
	case cfg.AllowAtomicPublish:
		return errMirrorWithAtomic()
	case cfg.AllowBatchPublish:
		return errMirrorWithBatch()
	case cfg.AllowMsgSchedules:
		return errMirrorWithSchedules()
	case m.Consumer != nil && !validSourceConsumer(m):
		return errMirrorConsumerInvalid()
	case m.FilterSubject != "" && len(m.SubjectTransforms) > 0:
		return errMirrorMultipleFilters()
	case cfg.SubjectDeleteMarkerTTL > 0:
		// A marker would take a sequence the origin does not have.
		return errStreamInvalidConfig("subject delete markers forbidden on mirrors")
	}
	for i, tr := range m.SubjectTransforms {
		if srcBad, why := checkTransform(tr); srcBad {
			return errMirrorTransformSource(why)
		} else if why != "" {
			return errMirrorTransformDest(why)
		}
		for j, other := range m.SubjectTransforms {
			if i != j && subjectsCollide(tr.Source, other.Source) {
				return errMirrorFiltersOverlap()
			}
		}
	}
	if m.External == nil && !validStreamName(m.Name) {
		return errMirrorInvalidName()
	}
	return nil
}

// checkSource checks one entry of cfg.Sources; inames and cnames collect
// the index and consumer names seen so far.
func checkSource(src *StreamSource, inames, cnames map[string]struct{}) *APIError {
	if src == nil || !validStreamName(src.Name) {
		return errSourceInvalidName()
	}
	iname := sourceIName(src)
	if _, dup := inames[iname]; dup {
		return errSourceDuplicate()
	}
	inames[iname] = struct{}{}
	if src.FilterSubject != "" && len(src.SubjectTransforms) > 0 {
		return errSourceMultipleFilters()
	}
	for _, tr := range src.SubjectTransforms {
		if srcBad, why := checkTransform(tr); srcBad {
			return errSourceTransformSource(why)
		} else if why != "" {
			return errSourceTransformDest(why)
		}
	}
	// Subset, not collision: "a.*" and "*.b" may be two transforms.
	for i, tr := range src.SubjectTransforms {
		for j, other := range src.SubjectTransforms {
			if i != j && subsetMatch(tr.Source, other.Source) {
				return errSourceFiltersOverlap()
			}
		}
	}
	if src.Consumer == nil {
		return nil
	}
	if !validSourceConsumer(src) {
		return errSourceConsumerInvalid()
	}
	// One upstream consumer feeds one source.
	cname := sourceCName(src)
	if _, dup := cnames[cname]; dup {
		return errSourceConsumerDuplicate()
	}
	cnames[cname] = struct{}{}
	return nil
}

// validSourceConsumer reports whether the durable consumer of src (not
// nil) is usable: a valid name, a literal deliver subject, and no start
// position or filter of its own (the upstream consumer has them).
func validSourceConsumer(src *StreamSource) bool {
	c := src.Consumer
	return validStreamName(c.Name) && subject.ValidLiteral(c.DeliverSubject) &&
		src.OptStartSeq == 0 && src.OptStartTime == nil && src.FilterSubject == ""
}

// checkExternals checks the delivery prefixes, then the api prefixes, of
// the external mirror and sources (empty prefixes are not checked).
func checkExternals(cfg *StreamConfig) *APIError {
	exts := externals(cfg)
	for _, x := range exts {
		if x.DeliverPrefix != "" && !subject.ValidLiteral(x.DeliverPrefix) {
			return errExternalDeliverInvalid(x.DeliverPrefix)
		}
	}
	for _, x := range exts {
		switch {
		case x.APIPrefix == "":
		case !subject.ValidLiteral(x.APIPrefix):
			return errStreamInvalidConfig("stream external api prefix %q must be a valid subject without wildcards", x.APIPrefix)
		case subjectsCollide(x.APIPrefix, jsAPIPrefix):
			return errExternalAPIOverlap(x.APIPrefix)
		}
	}
	return nil
}

// externals returns the external parts of the mirror and the sources, in
// that order.
func externals(cfg *StreamConfig) []*ExternalStream {
	var out []*ExternalStream
	if cfg.Mirror != nil && cfg.Mirror.External != nil {
		out = append(out, cfg.Mirror.External)
	}
	for _, src := range cfg.Sources {
		if src != nil && src.External != nil {
			out = append(out, src.External)
		}
	}
	return out
}

// sourceIName is a source's index name (officially composeIName): the
// upstream name, ":" and the hash of the external api prefix if external,
// ":C=" and the hash of the consumer name if durable, then a space, the
// filter and a space, the destination. Without transforms the filter is
// filter_subject and the destination ">"; with transforms the sources and
// destinations of all transforms, each joined with a form feed. An empty
// filter or destination counts as ">".
func sourceIName(src *StreamSource) string {
	name := sourceUpstreamName(src)
	if src.Consumer != nil {
		name += ":C=" + shortHash(src.Consumer.Name)
	}
	orGT := func(s string) string {
		if s == "" {
			return ">"
		}
		return s
	}
	filter, dest := orGT(src.FilterSubject), ">"
	if len(src.SubjectTransforms) > 0 {
		srcs := make([]string, len(src.SubjectTransforms))
		dests := make([]string, len(src.SubjectTransforms))
		for i, tr := range src.SubjectTransforms {
			srcs[i], dests[i] = orGT(tr.Source), orGT(tr.Destination)
		}
		filter, dest = strings.Join(srcs, "\f"), strings.Join(dests, "\f")
	}
	return name + " " + filter + " " + dest
}

// sourceCName names the upstream consumer a durable source reads
// (officially composeCName): the upstream name as in sourceIName, a
// space, the consumer name.
func sourceCName(src *StreamSource) string {
	c := ""
	if src.Consumer != nil {
		c = src.Consumer.Name
	}
	return sourceUpstreamName(src) + " " + c
}

// sourceUpstreamName is the upstream name, with the hash of the api
// prefix when external (the same name may exist in several domains).
func sourceUpstreamName(src *StreamSource) string {
	if src.External != nil {
		return src.Name + ":" + shortHash(src.External.APIPrefix)
	}
	return src.Name
}

// checkSourcingAgainst applies the checks that need the other local
// streams (lookup returns a stream's config, nil when unknown), to a cfg
// that passed normalizeConfig. It sets cfg.MirrorDirect to the local
// origin's allow_direct; in pedantic mode a difference is an error.
func checkSourcingAgainst(cfg *StreamConfig, pedantic bool, lookup func(name string) *StreamConfig) *APIError {
	var upstreamSubjects []string
	if m := cfg.Mirror; m != nil && m.External == nil {
		if o := lookup(m.Name); o != nil {
			upstreamSubjects = append(upstreamSubjects, o.Subjects...)
			if cfg.MaxMsgSize > 0 && o.MaxMsgSize > 0 && cfg.MaxMsgSize < o.MaxMsgSize {
				return errMirrorMaxMsgSize()
			}
			if pedantic && cfg.MirrorDirect != o.AllowDirect {
				return errPedantic("origin stream has direct get set, mirror has it disabled")
			}
			cfg.MirrorDirect = o.AllowDirect
		}
	}
	for _, src := range cfg.Sources {
		if src == nil || src.External != nil {
			continue
		}
		if o := lookup(src.Name); o != nil {
			upstreamSubjects = append(upstreamSubjects, o.Subjects...)
			if cfg.MaxMsgSize > 0 && o.MaxMsgSize > 0 && cfg.MaxMsgSize < o.MaxMsgSize {
				return errSourceMaxMsgSize()
			}
		}
	}
	for _, x := range externals(cfg) {
		if x.DeliverPrefix == "" {
			continue
		}
		for _, subj := range upstreamSubjects {
			if subjectsCollide(subj, x.DeliverPrefix+"."+subj) {
				return errExternalDeliverOverlaps(x.DeliverPrefix, subj)
			}
		}
	}
	return checkSourceCycles(cfg, lookup)
}

// checkSourceCycles walks the local upstreams of cfg breadth first. A
// source leading back to a stream already visited is a cycle only when
// the sourcing stream's subjects overlap the source's filter (no filter
// overlaps everything); a mirror leading back always is.
func checkSourceCycles(cfg *StreamConfig, lookup func(name string) *StreamConfig) *APIError {
	visited := make(map[string]struct{})
	queue := []*StreamConfig{cfg}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		visited[c.Name] = struct{}{}
		for _, src := range c.Sources {
			if src == nil || src.External != nil {
				continue
			}
			if _, seen := visited[src.Name]; seen {
				if filterOverlaps(c.Subjects, src.FilterSubject) {
					return errStreamInvalidConfig("detected cycle")
				}
			} else if up := lookup(src.Name); up != nil {
				queue = append(queue, up)
			}
		}
		if m := c.Mirror; m != nil && m.External == nil {
			if _, seen := visited[m.Name]; seen {
				return errStreamInvalidConfig("detected cycle")
			}
			if up := lookup(m.Name); up != nil {
				queue = append(queue, up)
			}
		}
	}
	return nil
}

func filterOverlaps(subjects []string, filter string) bool {
	if filter == "" {
		return true
	}
	for _, s := range subjects {
		if subjectsCollide(s, filter) {
			return true
		}
	}
	return false
}

// checkSourcingUpdate refuses an update that changes or adds a mirror.
// Removing it is allowed: the mirror becomes an ordinary stream.
func checkSourcingUpdate(old, cfg *StreamConfig) *APIError {
	if cfg.Mirror != nil && !sameSource(cfg.Mirror, old.Mirror) {
		return errMirrorNotUpdatable()
	}
	return nil
}

// sameSource is deep equality, with start times compared as instants (a
// time read back from meta.json has another *Location).
func sameSource(a, b *StreamSource) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta, tb := a.OptStartTime, b.OptStartTime
	if (ta == nil) != (tb == nil) || ta != nil && !ta.Equal(*tb) {
		return false
	}
	ca, cb := *a, *b
	ca.OptStartTime, cb.OptStartTime = nil, nil
	return reflect.DeepEqual(ca, cb)
}

// checkTransform validates a subject transform of a mirror or a source
// (officially ValidateMapping and NewSubjectTransform) and says what is
// wrong, "" when nothing is; srcBad tells that the source is invalid
// rather than the destination. The source may have wildcards (empty means
// ">"); the destination (empty means none) is a subject without '*'
// whose tokens may be "$N" or "{{wildcard(N)}}", N at most the number of
// '*' in the source, and which ends in '>' exactly when the source does.
// Fern has no transform engine yet: the other mapping functions (partition,
// split, slice, left, right, random...) are refused with the transform
// error, saying they are not implemented.
func checkTransform(tr SubjectTransform) (srcBad bool, why string) {
	src, dest := tr.Source, tr.Destination
	if src != "" && !subject.Valid(src) {
		return true, "invalid subject " + src
	}
	if dest == "" {
		return false, ""
	}
	if src == "" {
		src = ">"
	}
	dtoks := strings.Split(dest, ".")
	for i, t := range dtoks {
		if t == "" || i > 0 && dtoks[i-1] == ">" {
			return false, mappingErr("invalid transform", t)
		}
		if fn, _, ok := mappingFunction(t); ok {
			switch {
			case fn == "wildcard":
			case fn != "":
				return false, mappingErr("function "+fn+" is "+notImplemented, t)
			default:
				return false, mappingErr("unknown function", t)
			}
			continue
		}
		if strings.ContainsAny(t, " \t\n\r\f") {
			return false, mappingErr("invalid transform", "")
		}
	}
	pwcs, srcFWC := wildcardCounts(src)
	destPWCs, destFWC := wildcardCounts(dest)
	if destPWCs > 0 || srcFWC != destFWC {
		return false, "invalid subject"
	}
	for _, t := range dtoks {
		idx, ok, why := wildcardRef(t)
		switch {
		case why != "":
			return false, why
		case !ok:
		case pwcs == 0 && !srcFWC:
			return false, mappingErr("wildcard index out of range", t)
		case idx > pwcs:
			return false, mappingErr("wildcard index out of range", t+": ["+strconv.Itoa(idx)+"]")
		}
	}
	return false, ""
}

// mappingErr words a destination error as the official server does.
func mappingErr(what, token string) string {
	s := "invalid mapping destination: " + what
	if token != "" {
		s += " in " + token
	}
	return s
}

// mappingFunctions are the official mapping functions, in the official
// spelling: the first letter and each inner capital may be written in
// either case, the other letters only in lower case.
const mappingFunctions = "Partition Wildcard SplitFromLeft SplitFromRight SliceFromLeft " +
	"SliceFromRight Split Left Right Random"

// mappingFunction parses a "{{ name(args) }}" token. ok says the token is
// mustache-quoted; fn is the lower-case name of a known function, "" for
// an unknown one; args is what is between the parentheses.
func mappingFunction(t string) (fn, args string, ok bool) {
	if len(t) <= 4 || !strings.HasPrefix(t, "{{") || !strings.HasSuffix(t, "}}") {
		return "", "", false
	}
	body := strings.TrimSpace(t[2 : len(t)-2])
	open := strings.IndexByte(body, '(')
	if open < 0 || !strings.HasSuffix(body, ")") {
		return "", "", true
	}
	name := strings.TrimSpace(body[:open])
	for _, canon := range strings.Fields(mappingFunctions) {
		if humpEqual(name, canon) {
			return strings.ToLower(canon), body[open+1 : len(body)-1], true
		}
	}
	return "", "", true
}

// humpEqual compares name with canon, letting the letters capital in
// canon be of either case.
func humpEqual(name, canon string) bool {
	if len(name) != len(canon) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c, n := canon[i], name[i]
		if c >= 'A' && c <= 'Z' {
			if n != c && n != c+('a'-'A') {
				return false
			}
		} else if n != c {
			return false
		}
	}
	return true
}

// wildcardRef reports the source wildcard a destination token refers to:
// "$N" or "{{wildcard(N)}}" give (N, true); any other token is not a
// reference ("$x" with x not a number is a literal). why describes a
// malformed wildcard function.
func wildcardRef(t string) (idx int, ok bool, why string) {
	if len(t) > 1 && t[0] == '$' {
		n, err := strconv.Atoi(t[1:])
		return n, err == nil, ""
	}
	fn, args, quoted := mappingFunction(t)
	if !quoted || fn != "wildcard" {
		return 0, false, ""
	}
	parts := strings.Split(args, ",")
	switch {
	case len(parts) == 1 && parts[0] == "":
		return 0, false, mappingErr("not enough arguments passed to the function", t)
	case len(parts) > 1:
		return 0, false, mappingErr("too many arguments passed to the function", t)
	}
	n, err := strconv.Atoi(strings.Trim(parts[0], " "))
	if err != nil {
		return 0, false, mappingErr("function argument is invalid or in the wrong format", t)
	}
	return n, true, ""
}

// wildcardCounts counts the '*' tokens of s and says whether it has a '>'
// token.
func wildcardCounts(s string) (pwcs int, fwc bool) {
	for _, t := range strings.Split(s, ".") {
		switch t {
		case "*":
			pwcs++
		case ">":
			fwc = true
		}
	}
	return pwcs, fwc
}
