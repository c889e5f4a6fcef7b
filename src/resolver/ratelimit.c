/* Per-source token buckets for UDP answers: see ratelimit.h. */
#include "resolver/ratelimit.h"

#include <netinet/in.h>
#include <string.h>

void tc_ratelimit_init(struct tc_ratelimit *rl, uint32_t qps)
{
	memset(rl, 0, sizeof(*rl));
	rl->qps = qps;
	rl->burst_milli = qps > UINT32_MAX / 1000 ? UINT32_MAX : qps * 1000;
	for (size_t i = 0; i < TC_RATELIMIT_LOCKS; i++)
		pthread_mutex_init(&rl->locks[i], NULL);
}

void tc_ratelimit_destroy(struct tc_ratelimit *rl)
{
	for (size_t i = 0; i < TC_RATELIMIT_LOCKS; i++)
		pthread_mutex_destroy(&rl->locks[i]);
}

/* FNV-1a over the address octets that identify the source. */
static uint32_t source_key(const struct sockaddr *src)
{
	const uint8_t *p;
	size_t n;
	if (src->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
		n = 4;
	} else if (src->sa_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)src)->sin6_addr;
		n = 8;   /* the /64 */
	} else {
		return 0;
	}
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

enum tc_ratelimit_verdict tc_ratelimit_check(struct tc_ratelimit *rl, const struct sockaddr *src,
					     uint64_t now_ms)
{
	if (rl->qps == 0)
		return TC_RL_PASS;
	size_t idx = source_key(src) % TC_RATELIMIT_BUCKETS;
	struct tc_ratelimit_bucket *b = &rl->b[idx];
	pthread_mutex_t *lock = &rl->locks[idx % TC_RATELIMIT_LOCKS];
	enum tc_ratelimit_verdict v;
	pthread_mutex_lock(lock);
	/* Colliding sources share the bucket. A bucket never used has
	 * last_ms 0, so its first refill fills it. */
	uint64_t elapsed = now_ms - b->last_ms;
	if (elapsed > 0) {
		/* qps tokens per second = qps milli-tokens per millisecond. */
		uint64_t refill = elapsed * rl->qps;
		uint64_t t = b->tokens_milli + refill;
		b->tokens_milli = t > rl->burst_milli ? rl->burst_milli : (uint32_t)t;
		b->last_ms = now_ms;
	}
	if (b->tokens_milli >= 1000) {
		b->tokens_milli -= 1000;
		b->limited = 0;
		v = TC_RL_PASS;
	} else {
		b->limited++;
		v = b->limited % TC_RATELIMIT_SLIP == 0 ? TC_RL_SLIP : TC_RL_DROP;
	}
	pthread_mutex_unlock(lock);
	return v;
}
