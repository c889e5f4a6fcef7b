/* ct_synth_log DIR [entries=1000000] [cert_bytes=700]: a static-ct-api log of
 * that many entries for the monitor bench, without the log process (which
 * takes ~2,000 add-chains/s: 10^6 entries would take minutes to submit).
 *
 * Writes DIR/store (the LevelDB log store), DIR/tiles (checkpoint, tiles,
 * issuer, exactly as the log's tile publisher writes them) and
 * DIR/log_public_key.pem, the key the checkpoint is signed with (a fresh
 * P-256 key here, not an HSM one: the monitor only needs the public half).
 * Entries are x509 entries whose certificates are distinct random bytes
 * (neither the tiles nor the monitor parse X.509), each with a one-issuer
 * chain, and the static-ct-api leaf_index extension the log gives them.
 *
 * Then, e.g.:
 *   (cd DIR/tiles && python3 -m http.server 8000 --bind 127.0.0.1) &
 *   trustchainctl ct monitor --url http://127.0.0.1:8000 \
 *       --log-key DIR/log_public_key.pem --state /tmp/m.state --once
 * which prints the entries verified per second from a cold start. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "transparency/ct_encode.h"
#include "transparency/ct_store.h"
#include "transparency/tile_publisher.h"

#define BATCH 4096

static void die(const char *what)
{
	fprintf(stderr, "ct_synth_log: %s\n", what);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: ct_synth_log DIR [entries] [cert_bytes]");
	const char *dir = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	long cert_bytes = argc > 3 ? atol(argv[3]) : 700;
	if (n < 1 || cert_bytes < 16 || cert_bytes > 60000)
		die("entries >= 1, 16 <= cert_bytes <= 60000");
	char path[4096], tiles[4096];
	snprintf(path, sizeof(path), "%s/store", dir);
	snprintf(tiles, sizeof(tiles), "%s/tiles", dir);
	mkdir(dir, 0755);
	mkdir(tiles, 0755);

	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char *spki = NULL, log_id[32];
	int spki_len = key ? i2d_PUBKEY(key, &spki) : -1;
	if (spki_len <= 0)
		die("key generation");
	EVP_Digest(spki, (size_t)spki_len, log_id, NULL, EVP_sha256(), NULL);
	OPENSSL_free(spki);
	char kp[4096];
	snprintf(kp, sizeof(kp), "%s/log_public_key.pem", dir);
	FILE *kf = fopen(kp, "w");
	if (!kf || !PEM_write_PUBKEY(kf, key) || fclose(kf) != 0)
		die("writing the public key");

	struct tc_ct_store *st;
	char err[512];
	if (tc_ct_store_open(path, &st, err, sizeof(err)) != 0)
		die(err);
	if (tc_ct_store_size(st) != 0)
		die("DIR/store is not empty");

	/* extra_data: certificate_chain <0..2^24-1> of one issuer */
	unsigned char issuer[300], extra[3 + 3 + sizeof(issuer)];
	RAND_bytes(issuer, sizeof(issuer));
	size_t il = sizeof(issuer);
	extra[0] = (unsigned char)((3 + il) >> 16), extra[1] = (unsigned char)((3 + il) >> 8),
	extra[2] = (unsigned char)(3 + il);
	extra[3] = (unsigned char)(il >> 16), extra[4] = (unsigned char)(il >> 8), extra[5] = (unsigned char)il;
	memcpy(extra + 6, issuer, il);

	struct tc_ct_store_entry *es = calloc(BATCH, sizeof(*es));
	unsigned char **leaves = calloc(BATCH, sizeof(*leaves));
	unsigned char *cert = malloc((size_t)cert_bytes);
	if (!es || !leaves || !cert)
		die("out of memory");
	uint64_t ts = now_ms() - (uint64_t)n;
	for (long done = 0; done < n;) {
		size_t k = 0;
		for (; k < BATCH && done + (long)k < n; k++) {
			uint64_t index = (uint64_t)done + k;
			unsigned char ext[8] = {0, 0, 5, (unsigned char)(index >> 32), (unsigned char)(index >> 24),
						(unsigned char)(index >> 16), (unsigned char)(index >> 8),
						(unsigned char)index};
			RAND_bytes(cert, (int)cert_bytes);
			struct tc_ct_entry e = {.type = TC_CT_X509_ENTRY, .timestamp = ts + index, .cert = cert,
						.cert_len = (size_t)cert_bytes, .extensions = ext, .extensions_len = 8};
			size_t len = 0;
			if (tc_ct_encode_leaf(&e, NULL, 0, &len) != TC_CT_ERR_SPACE || !(leaves[k] = malloc(len)) ||
			    tc_ct_encode_leaf(&e, leaves[k], len, &len) != TC_CT_OK)
				die("encoding");
			es[k] = (struct tc_ct_store_entry){.leaf_input = leaves[k], .leaf_len = len,
							   .extra_data = extra, .extra_len = 6 + il};
		}
		uint64_t first;
		if (tc_ct_store_append_batch(st, es, k, &first) != TC_CT_STORE_OK)
			die("append");
		for (size_t i = 0; i < k; i++)
			free(leaves[i]);
		done += (long)k;
	}

	/* one signed tree head over everything, published like the log does */
	struct tc_ct_sth sth = {.tree_size = (uint64_t)n, .timestamp = now_ms()};
	if (tc_ct_store_root(st, sth.tree_size, sth.root) != TC_CT_STORE_OK)
		die("root");
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(sth.timestamp, sth.tree_size, sth.root, input);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t sl = sizeof(sth.signature);
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sth.signature, &sl, input, sizeof(input)) != 1)
		die("signing the tree head");
	sth.signature_len = sl;
	EVP_MD_CTX_free(md);
	if (tc_ct_store_put_sth(st, &sth) != TC_CT_STORE_OK)
		die("storing the tree head");
	struct tc_tile_publisher *p;
	if (tc_tile_publisher_open(tiles, "ct.synth.example:6962", log_id, &p, err, sizeof(err)) != 0 ||
	    tc_tile_publisher_publish(p, st, &sth, err, sizeof(err)) != 0)
		die(err);
	tc_tile_publisher_close(p);
	tc_ct_store_close(st);
	EVP_PKEY_free(key);
	free(es);
	free(leaves);
	free(cert);
	printf("ct_synth_log: %ld entries of %ld-byte certificates in %s (origin ct.synth.example:6962)\n", n,
	       cert_bytes, dir);
	return 0;
}
