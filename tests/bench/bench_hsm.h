/* What this machine can do at most, measured in the bench's own run so a
 * figure can be read against it: the HSM's raw signing rate with one of
 * the token's keys, and the P-256 signature checks one core does. */
#ifndef TC_BENCH_HSM_H
#define TC_BENCH_HSM_H

/* Signatures per second through libp11 with the key labelled key_label on
 * the token of the configuration at config_path, threads signing in
 * parallel for seconds. Run with the signer stopped (one process on the
 * token). -1 when the token or key cannot be opened. */
double bench_hsm_sign_rate(const char *config_path, const char *key_label, int threads, double seconds);

/* ECDSA P-256 / SHA-256 verifications per second on this thread (what every
 * submitted chain and CSR costs at least once). */
double bench_p256_verify_rate(double seconds);

#endif
