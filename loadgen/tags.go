package loadgen

import (
	"context"
	"slices"
	"strings"
)

// Tag is one key:value label on a sample.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TagSet is an immutable, sorted set of tags with unique keys. Its hash is computed once so
// the collector finds a sample's series without building strings.
type TagSet struct {
	tags []Tag
	hash uint64
	key  string // lazily built canonical form, "k1:v1,k2:v2"
}

// NewTagSet returns the set of tags; for repeated keys the last value wins.
func NewTagSet(tags ...Tag) *TagSet {
	return mergeTags(nil, tags)
}

// Tags returns a copy of the tags, sorted by key.
func (s *TagSet) Tags() []Tag {
	if s == nil {
		return nil
	}
	return slices.Clone(s.tags)
}

// Len is the number of tags.
func (s *TagSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.tags)
}

// Get returns the value of key.
func (s *TagSet) Get(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	i, ok := slices.BinarySearchFunc(s.tags, key, func(t Tag, k string) int { return strings.Compare(t.Key, k) })
	if !ok {
		return "", false
	}
	return s.tags[i].Value, true
}

// Contains reports whether every tag of filter is in s with the same value.
func (s *TagSet) Contains(filter []Tag) bool {
	for _, f := range filter {
		if v, ok := s.Get(f.Key); !ok || v != f.Value {
			return false
		}
	}
	return true
}

// String is the canonical form "k1:v1,k2:v2" (keys sorted).
func (s *TagSet) String() string {
	if s == nil {
		return ""
	}
	if s.key == "" && len(s.tags) > 0 {
		s.key = formatTags(s.tags)
	}
	return s.key
}

func formatTags(tags []Tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.Key)
		b.WriteByte(':')
		b.WriteString(t.Value)
	}
	return b.String()
}

// mergeTags returns base with extra applied (extra wins on equal keys).
func mergeTags(base *TagSet, extra []Tag) *TagSet {
	out := make([]Tag, 0, base.Len()+len(extra))
	if base != nil {
		out = append(out, base.tags...)
	}
	for _, t := range extra {
		i, ok := slices.BinarySearchFunc(out, t.Key, func(x Tag, k string) int { return strings.Compare(x.Key, k) })
		if ok {
			out[i].Value = t.Value
			continue
		}
		out = slices.Insert(out, i, t)
	}
	return &TagSet{tags: out, hash: hashTags(out)}
}

// mergeSets merges two sets, b winning on equal keys.
func mergeSets(a, b *TagSet) *TagSet {
	switch {
	case b.Len() == 0:
		if a == nil {
			return &TagSet{hash: hashTags(nil)}
		}
		return a
	case a.Len() == 0:
		return b
	}
	return mergeTags(a, b.tags)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashTags(tags []Tag) uint64 {
	h := uint64(fnvOffset)
	for _, t := range tags {
		h = hashString(h, t.Key)
		h = (h ^ 0xff) * fnvPrime
		h = hashString(h, t.Value)
		h = (h ^ 0xfe) * fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

type tagsKey struct{}

type expectedKey struct{}

// WithExpectedStatuses returns a context under which an HTTP response counts as a
// success in http_req_failed (and carries expected_response:true) when its status is
// one of statuses, as k6's http.expectedStatuses does; by default a status below 400 is
// expected. A misread barcode's 404, for example, is the expected answer.
func WithExpectedStatuses(ctx context.Context, statuses ...int) context.Context {
	return context.WithValue(ctx, expectedKey{}, append([]int(nil), statuses...))
}

// expectedStatus reports whether status counts as expected under ctx.
func expectedStatus(ctx context.Context, status int) bool {
	if want, ok := ctx.Value(expectedKey{}).([]int); ok {
		for _, s := range want {
			if s == status {
				return true
			}
		}
		return false
	}
	return status < 400
}

// WithTags returns a context whose samples carry tags in addition to those already on ctx
// (later values win). Every sample a VU emits under the context, including the HTTP
// samples of requests made with it, carries them.
func WithTags(ctx context.Context, tags ...Tag) context.Context {
	if len(tags) == 0 {
		return ctx
	}
	return context.WithValue(ctx, tagsKey{}, mergeTags(TagsFrom(ctx), tags))
}

// TagsFrom returns the tags WithTags put on ctx, or nil.
func TagsFrom(ctx context.Context) *TagSet {
	s, _ := ctx.Value(tagsKey{}).(*TagSet)
	return s
}
