/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashq: the hashing worker and the records waiting for it (hashq.h).
 *
 * Invariants:
 *   1. The hold is a FIFO ring of record copies; records leave it only
 *      from the head, so what is emitted keeps the order of hashq_add,
 *      except records passed when the hold was full (counted).
 *   2. A held record names at most one job; a job's refs counts the held
 *      records naming it. A job is FREE, QUEUED (the worker will take
 *      it), RUNNING (the worker reads its fd) or DONE (result set, fd
 *      closed by the worker). The worker owns fd from QUEUED to DONE.
 *   3. A job returns to FREE only on the main thread, once DONE with no
 *      refs, after its result went to exehash's cache (exehash_store).
 *   4. The head is released when its job is DONE (its result) or its
 *      deadline has passed (status TIMEOUT), so no record waits longer
 *      than the per-file time limit plus one release interval.
 *   5. The worker never touches exehash's cache or the hold; the mutex
 *      guards job states, results and the worker's queue.
 * Nothing here is persistent: at a crash held records are lost like any
 * record in memory (docs/agent.md "Records of the agent itself").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hashq.h"

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct job {
	enum job_state state;
	int fd;
	struct exehash_key key;
	uint64_t deadline_ms, seq;
	unsigned refs;
	struct exehash_result res;
};

struct held {
	struct custos_record *rec;
	int job;		/* index, or -1: complete already */
	uint64_t deadline_ms;
};

struct hashq {
	struct exehash *h;
	hashq_emit_fn emit;
	void *ctx;
	unsigned n_jobs, n_hold;
	struct job *jobs;
	struct held *hold;
	unsigned head, count;
	uint64_t next_seq;
	struct hashq_stats st;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t worker;
	int stop, started;
	uint8_t *chunk;		/* the worker's read buffer */
};

/* The oldest QUEUED job, or NULL. Under mu. */
static struct job *next_job(struct hashq *q)
{
	struct job *best = NULL;

	for (unsigned i = 0; i < q->n_jobs; i++)
		if (q->jobs[i].state == JOB_QUEUED && (!best || q->jobs[i].seq < best->seq))
			best = &q->jobs[i];
	return best;
}

static void *worker_main(void *arg)
{
	struct hashq *q = arg;
	struct exehash_result res;
	struct job *j;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && !(j = next_job(q)))
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&q->mu);
		memset(&res, 0, sizeof(res));
		res.status = CUSTOS_HASH_TIMEOUT;	/* its time went by in the queue */
		if (exehash_now_ms() <= j->deadline_ms)
			exehash_compute(j->fd, &j->key, j->deadline_ms, q->chunk, &res);
		close(j->fd);
		pthread_mutex_lock(&q->mu);
		j->fd = -1;
		j->res = res;
		j->state = JOB_DONE;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int hashq_open(struct exehash *h, unsigned jobs, unsigned hold, hashq_emit_fn emit, void *ctx,
	       struct hashq **out)
{
	struct hashq *q;
	int ret = -CUSTOS_ERR_NOMEM;

	*out = NULL;
	if (!h || !emit || jobs == 0 || hold == 0)
		return -CUSTOS_ERR_INVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return ret;
	q->h = h;
	q->emit = emit;
	q->ctx = ctx;
	q->n_jobs = jobs;
	q->n_hold = hold;
	q->jobs = calloc(jobs, sizeof(*q->jobs));
	q->hold = calloc(hold, sizeof(*q->hold));
	q->chunk = malloc(EXEHASH_CHUNK);
	if (!q->jobs || !q->hold || !q->chunk)
		goto fail;
	for (unsigned i = 0; i < hold; i++)
		if (!(q->hold[i].rec = malloc(sizeof(struct custos_record))))
			goto fail;
	for (unsigned i = 0; i < jobs; i++)
		q->jobs[i].fd = -1;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->worker, NULL, worker_main, q) != 0) {
		ret = -CUSTOS_ERR_IO;
		goto fail;
	}
	q->started = 1;
	*out = q;
	return 0;
fail:
	hashq_close(q);
	return ret;
}

void hashq_close(struct hashq *q)
{
	if (!q)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->stop = 1;
		pthread_cond_signal(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->worker, NULL);
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
	}
	for (unsigned i = 0; q->jobs && i < q->n_jobs; i++)
		if (q->jobs[i].fd >= 0)
			close(q->jobs[i].fd);	/* QUEUED: the worker is gone */
	for (unsigned i = 0; q->hold && i < q->n_hold; i++)
		free(q->hold[i].rec);
	free(q->hold);
	free(q->jobs);
	free(q->chunk);
	free(q);
}

size_t hashq_held(const struct hashq *q)
{
	return q->count;
}

void hashq_get_stats(const struct hashq *q, struct hashq_stats *st)
{
	*st = q->st;
}

/* Whether a record of pid is held. */
static int pid_held(const struct hashq *q, uint64_t pid)
{
	for (unsigned i = 0; i < q->count; i++) {
		const struct held *e = &q->hold[(q->head + i) % q->n_hold];

		if (e->rec->kind < CUSTOS_REC_AGENT_START && e->rec->subj.pid == pid)
			return 1;
	}
	return 0;
}

/* Put a copy of rec at the tail (there is room). */
static void hold_push(struct hashq *q, const struct custos_record *rec, int job, uint64_t deadline)
{
	struct held *e = &q->hold[(q->head + q->count) % q->n_hold];

	*e->rec = *rec;
	e->job = job;
	e->deadline_ms = deadline;
	q->count++;
	q->st.held++;
}

/* A job for key: one already under way for the same file, or a free one
 * (fd handed over). Returns its index, or -1 (none free). Under mu. */
static int job_for(struct hashq *q, int fd, const struct exehash_key *key, uint64_t now)
{
	int free_i = -1;

	for (unsigned i = 0; i < q->n_jobs; i++) {
		struct job *j = &q->jobs[i];

		if (j->state == JOB_FREE) {
			if (free_i < 0)
				free_i = (int)i;
		} else if (memcmp(&j->key, key, sizeof(*key)) == 0) {
			close(fd);
			q->st.shared++;
			return (int)i;
		}
	}
	if (free_i >= 0) {
		struct job *j = &q->jobs[free_i];

		memset(&j->res, 0, sizeof(j->res));
		j->state = JOB_QUEUED;
		j->fd = fd;
		j->key = *key;
		j->deadline_ms = now + exehash_max_ms(q->h);
		j->seq = q->next_seq++;
		j->refs = 0;
		q->st.jobs++;
		pthread_cond_signal(&q->cv);
	}
	return free_i;
}

/* DONE jobs: results into the cache; unreferenced ones freed. Under mu. */
static void collect(struct hashq *q)
{
	for (unsigned i = 0; i < q->n_jobs; i++) {
		struct job *j = &q->jobs[i];

		if (j->state == JOB_DONE && j->refs == 0) {
			exehash_store(q->h, &j->key, &j->res);
			j->state = JOB_FREE;
		}
	}
}

/* Pop the head if it may go: OUT: *out (the record to emit, valid until
 * the next push). Returns 1 popped, 0 must wait. Under mu. */
static int pop_ready(struct hashq *q, uint64_t now, int force, struct custos_record **out)
{
	struct held *e = &q->hold[q->head];

	if (q->count == 0)
		return 0;
	if (e->job >= 0) {
		struct job *j = &q->jobs[e->job];
		struct exehash_result late = { .status = CUSTOS_HASH_TIMEOUT };

		if (j->state == JOB_DONE) {
			exehash_apply(q->h, e->rec, &j->res);
		} else if (now > e->deadline_ms || force) {
			exehash_apply(q->h, e->rec, &late);
			q->st.timed_out++;
		} else {
			return 0;
		}
		j->refs--;
	}
	*out = e->rec;
	q->head = (q->head + 1) % q->n_hold;
	q->count--;
	return 1;
}

static int release(struct hashq *q, int force)
{
	struct custos_record *r;
	uint64_t now = exehash_now_ms();
	int ret = 0, popped;

	do {
		pthread_mutex_lock(&q->mu);
		popped = pop_ready(q, now, force, &r);
		collect(q);
		pthread_mutex_unlock(&q->mu);
		if (popped)
			ret = q->emit(q->ctx, r);
	} while (popped && ret == 0);
	return ret;
}

int hashq_release(struct hashq *q)
{
	return release(q, 0);
}

static void nap(void)
{
	struct timespec t = { 0, 1000000 };	/* 1 ms */

	nanosleep(&t, NULL);
}

int hashq_drain(struct hashq *q)
{
	uint64_t give_up = exehash_now_ms() + exehash_max_ms(q->h) + 1000;
	int ret = 0;

	while (ret == 0 && q->count) {
		ret = release(q, exehash_now_ms() > give_up);
		if (ret == 0 && q->count)
			nap();
	}
	return ret;
}

/* Hand rec to the worker and hold it. Returns 0 held, 1 no room (fd
 * closed, status QUEUE_FULL set), or emit's error while waiting. */
static int queue_exec(struct hashq *q, struct custos_record *rec, int fd,
		      const struct exehash_key *key, int wait)
{
	struct exehash_result full = { .status = CUSTOS_HASH_QUEUE_FULL };
	int job = -1, ret;

	for (;;) {
		uint64_t now = exehash_now_ms();

		pthread_mutex_lock(&q->mu);
		collect(q);
		if (q->count < q->n_hold && (job = job_for(q, fd, key, now)) >= 0)
			q->jobs[job].refs++;
		pthread_mutex_unlock(&q->mu);
		if (job >= 0) {
			hold_push(q, rec, job, q->jobs[job].deadline_ms);
			return 0;
		}
		if (!wait)
			break;
		if ((ret = hashq_release(q)))
			return ret;
		nap();
	}
	close(fd);
	exehash_apply(q->h, rec, &full);
	q->st.queue_full++;
	return 1;
}

int hashq_add(struct hashq *q, struct custos_record *rec, int wait)
{
	struct exehash_key key;
	int fd, ret;
	int is_subj = rec->kind < CUSTOS_REC_AGENT_START;

	if (exehash_begin(q->h, rec, &fd, &key) == 1) {
		ret = queue_exec(q, rec, fd, &key, wait);
		if (ret <= 0)
			return ret;
	}
	if (q->count && is_subj && pid_held(q, rec->subj.pid)) {
		while (wait && q->count == q->n_hold) {
			if ((ret = hashq_release(q)))
				return ret;
			if (q->count == q->n_hold)
				nap();
		}
		if (q->count < q->n_hold) {
			hold_push(q, rec, -1, 0);
			return 0;
		}
		q->st.passed++;
	}
	return q->emit(q->ctx, rec);
}
