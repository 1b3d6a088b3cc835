package jetstream

import "strings"

// TEMPORARY until the config branch lands.
func sourceIName(src *StreamSource) string {
	n := src.Name
	if x := src.External; x != nil && x.APIPrefix != "" {
		n += ":" + shortHash(x.APIPrefix)
	}
	if c := src.Consumer; c != nil {
		n += ":C=" + shortHash(c.Name)
	}
	if len(src.SubjectTransforms) == 0 {
		f := src.FilterSubject
		if f == "" {
			f = ">"
		}
		return n + " " + f + " >"
	}
	var s, d []string
	for _, t := range src.SubjectTransforms {
		s, d = append(s, t.Source), append(d, t.Destination)
	}
	return n + " " + strings.Join(s, "\f") + " " + strings.Join(d, "\f")
}
