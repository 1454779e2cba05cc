package netsuite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Async requests: a record write or SuiteQL query sent with Prefer: respond-async is
// answered 202 with Preference-Applied and Location: …/async/v1/job/{id}; the job runs
// later (holding a governance slot while it runs) and its result is kept:
//
//	GET …/async/v1/job/{id}                      {"id", "completed", "progress", "createdTime", "lastModifiedTime", "task": {"links"}}
//	GET …/async/v1/job/{id}/task                 collection of the job's one task
//	GET …/async/v1/job/{id}/task/{id}            the task and a link to its result
//	GET …/async/v1/job/{id}/task/{id}/result     the synchronous answer, replayed (status, Location, body)
//
// X-NetSuite-Idempotency-Key applies to async requests only: a key already used
// answers 400 IDEMPOTENCY_ERROR with the first job's Location, and nothing runs.
// progress is "pending", "inProgress", "succeeded" or "failed" (the answer was 4xx/5xx).
// The simulator keeps the latest maxJobs jobs.

const (
	asyncWorkers = 2
	asyncQueue   = 1000
	maxJobs      = 10_000
	idemKeyMax   = 128
)

type job struct {
	id       int64
	created  time.Time
	modified time.Time
	progress string
	status   int
	header   http.Header
	body     []byte
}

type jobWork struct {
	job *job
	gen int64
	req *http.Request
	h   http.HandlerFunc
}

// jobQueue holds async jobs and runs them on a few workers.
type jobQueue struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan jobWork
	wg     sync.WaitGroup

	mu     sync.Mutex
	gen    int64 // bumped by reset: work of an older generation is dropped
	next   int64
	jobs   map[int64]*job
	order  []int64
	byKey  map[string]int64
	closed bool
}

func newJobQueue(s *Server, workers int) *jobQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &jobQueue{s: s, ctx: ctx, cancel: cancel, queue: make(chan jobWork, asyncQueue),
		jobs: map[int64]*job{}, byKey: map[string]int64{}}
	for range workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

func (q *jobQueue) reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.gen++
	q.jobs = map[int64]*job{}
	q.order = nil
	q.byKey = map[string]int64{}
}

func (q *jobQueue) jobURL(r *http.Request, id int64) string {
	return q.s.baseURL(r) + "/async/v1/job/" + strconv.FormatInt(id, 10)
}

// submitAsync answers an async request with 202 and queues its work.
func (s *Server) submitAsync(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	data, err := s.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	key := strings.TrimSpace(r.Header.Get("X-NetSuite-Idempotency-Key"))
	if len(key) > idemKeyMax {
		writeError(w, badRequest(codeInvalidParameter, "", "X-NetSuite-Idempotency-Key is longer than %d characters.", idemKeyMax))
		return
	}
	q := s.jobs
	q.mu.Lock()
	if key != "" {
		if first, ok := q.byKey[key]; ok {
			q.mu.Unlock()
			w.Header().Set("Location", q.jobURL(r, first))
			writeError(w, badRequest(codeIdempotency, "", "The idempotency key %s was already used by job %d.", key, first))
			return
		}
	}
	if q.closed {
		q.mu.Unlock()
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Code: codeUnexpected, Detail: "The server is shutting down."})
		return
	}
	q.next++
	now := s.clock()
	j := &job{id: q.next, created: now, modified: now, progress: "pending"}
	inner := r.Clone(context.Background())
	inner.Body = io.NopCloser(bytes.NewReader(data))
	inner.ContentLength = int64(len(data))
	inner.Header.Del("Prefer")
	select {
	case q.queue <- jobWork{job: j, gen: q.gen, req: inner, h: h}:
	default:
		q.mu.Unlock()
		writeError(w, &apiError{Status: http.StatusTooManyRequests, Code: codeConcurrency,
			Detail: fmt.Sprintf("Too many async requests are waiting (%d). Request blocked.", asyncQueue)})
		return
	}
	q.jobs[j.id] = j
	q.order = append(q.order, j.id)
	if key != "" {
		q.byKey[key] = j.id
	}
	q.evict()
	q.mu.Unlock()
	w.Header().Set("Location", q.jobURL(r, j.id))
	w.Header().Set("Preference-Applied", "respond-async")
	w.WriteHeader(http.StatusAccepted)
}

// evict forgets the oldest jobs beyond maxJobs. Called with mu held.
func (q *jobQueue) evict() {
	for len(q.order) > maxJobs {
		delete(q.jobs, q.order[0])
		q.order = q.order[1:]
	}
	if len(q.byKey) > maxJobs {
		for k, id := range q.byKey {
			if _, ok := q.jobs[id]; !ok {
				delete(q.byKey, k)
			}
		}
	}
}

func (q *jobQueue) work() {
	defer q.wg.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case wk := <-q.queue:
			q.run(wk)
		}
	}
}

func (q *jobQueue) run(wk jobWork) {
	if err := q.s.gov.acquire(q.ctx); err != nil {
		return // closing
	}
	q.update(wk, func(j *job) { j.progress = "inProgress" })
	rec := newRecorder()
	func() {
		defer q.s.gov.release()
		defer func() {
			if v := recover(); v != nil {
				rec = newRecorder()
				writeError(rec, fmt.Errorf("internal error: %v", v))
			}
		}()
		wk.h(rec, wk.req.WithContext(q.ctx))
	}()
	outcome := "succeeded"
	if rec.status >= 400 {
		outcome = "failed"
	}
	q.s.metrics.asyncJobs.WithLabelValues(outcome).Inc()
	q.update(wk, func(j *job) {
		j.progress, j.status, j.header, j.body = outcome, rec.status, rec.header, rec.body.Bytes()
	})
}

func (q *jobQueue) update(wk jobWork, fn func(*job)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if wk.gen != q.gen {
		return // the simulator was reset meanwhile
	}
	fn(wk.job)
	wk.job.modified = q.s.clock()
}

// snapshot returns a copy of job id.
func (q *jobQueue) snapshot(id int64) (job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return job{}, false
	}
	return *j, true
}

// serveJob answers the job status endpoints.
func (s *Server) serveJob(w http.ResponseWriter, r *http.Request) {
	if err := s.job(w, r); err != nil {
		writeError(w, err)
	}
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) error {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, s.apiBase+"/async/v1/job"), "/")
	parts := strings.Split(rest, "/")
	id, ok := parseID(parts[0])
	if !ok {
		return notFound("Job %q was not found.", parts[0])
	}
	j, ok := s.jobs.snapshot(id)
	if !ok {
		return notFound("Job %d was not found.", id)
	}
	jobHref := s.jobs.jobURL(r, id)
	taskHref := jobHref + "/task/" + strconv.FormatInt(id, 10)
	done := j.progress == "succeeded" || j.progress == "failed"
	switch {
	case len(parts) == 1:
		writeJSON(w, http.StatusOK, map[string]any{"links": selfLink(jobHref), "id": strconv.FormatInt(id, 10),
			"completed": done, "progress": j.progress, "createdTime": formatTime(j.created),
			"lastModifiedTime": formatTime(j.modified), "task": map[string]any{"links": []link{{Rel: "related", Href: jobHref + "/task"}}}})
	case len(parts) == 2 && parts[1] == "task":
		writeCollection(w, collection{Links: selfLink(jobHref + "/task"), Count: 1, TotalResults: 1,
			Items: []any{map[string]any{"links": selfLink(taskHref), "id": strconv.FormatInt(id, 10)}}})
	case len(parts) == 3 && parts[1] == "task" && parts[2] == strconv.FormatInt(id, 10):
		writeJSON(w, http.StatusOK, map[string]any{"links": selfLink(taskHref), "id": parts[2], "completed": done,
			"progress": j.progress, "createdTime": formatTime(j.created), "lastModifiedTime": formatTime(j.modified),
			"result": map[string]any{"links": []link{{Rel: "related", Href: taskHref + "/result"}}}})
	case len(parts) == 4 && parts[1] == "task" && parts[2] == strconv.FormatInt(id, 10) && parts[3] == "result":
		if !done {
			return notFound("Job %d has not completed yet (progress: %s).", id, j.progress)
		}
		for _, h := range []string{"Location", "Content-Type", "Preference-Applied"} {
			if v := j.header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(j.status)
		_, _ = w.Write(j.body)
	default:
		return notFound("No resource at %s.", r.URL.Path)
	}
	return nil
}

// recorder is a minimal http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
