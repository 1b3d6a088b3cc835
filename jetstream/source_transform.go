package jetstream

import "strings"

// This file maps a sourced message's subject through a subject transform
// {src, dest}: dest's tokens are literals, or references to src's
// wildcard tokens by position, as "$1" or "{{wildcard(1)}}" (the official
// mapping syntax for the common case; the other mapping functions are
// refused by config validation).

// applyTransform maps subj if it matches src. ok is false when it does
// not match.
func applyTransform(src, dest, subj string) (string, bool) {
	if src == "" {
		src = ">"
	}
	st := strings.Split(src, ".")
	tt := strings.Split(subj, ".")
	var wild []string // what each wildcard of src matched
	for i, tok := range st {
		if tok == ">" {
			if i >= len(tt) {
				return "", false
			}
			wild = append(wild, strings.Join(tt[i:], "."))
			tt = tt[:i+1]
			break
		}
		if i >= len(tt) {
			return "", false
		}
		if tok == "*" {
			wild = append(wild, tt[i])
		} else if tok != tt[i] {
			return "", false
		}
	}
	if len(st) != len(tt) {
		return "", false
	}
	if dest == "" {
		return subj, true
	}
	out := strings.Split(dest, ".")
	for i, tok := range out {
		if n, ok, _ := wildcardRef(tok); ok {
			if n < 1 || n > len(wild) {
				return "", false
			}
			out[i] = wild[n-1]
		} else if tok == ">" && len(wild) > 0 && st[len(st)-1] == ">" {
			out[i] = wild[len(wild)-1]
		}
	}
	return strings.Join(out, "."), true
}
