/* The static-ct-api read path on the log's own HTTP listener: GET (or
 * HEAD) /checkpoint, /tile/..., /issuer/... answered from the files the
 * tile publisher wrote under ct.tiles_dir, so the listener's root is the
 * log's monitoring prefix. Only canonical resource names (tile_path.h) are
 * looked up, opened beneath the tiles directory without following links.
 *
 * Headers as the spec asks: Content-Type text/plain; charset=utf-8 for the
 * checkpoint, application/octet-stream for tiles, application/pkix-cert for
 * issuers; Cache-Control lets a checkpoint be cached for a second at most
 * (it changes with every batch), a full tile or an issuer forever
 * ("immutable": its content is fixed by the tree), a partial tile for a
 * minute (its content never changes either, but it is removed once the
 * full tile exists). */
#ifndef TC_TRANSPARENCY_TILE_HTTP_H
#define TC_TRANSPARENCY_TILE_HTTP_H

#include <microhttpd.h>

#define TC_TILE_CACHE_CHECKPOINT "public, max-age=1"
#define TC_TILE_CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define TC_TILE_CACHE_PARTIAL "public, max-age=60"

/* 1 when url ("/checkpoint", "/tile/...", "/issuer/...") is in the
 * static-ct-api name space (served here, never by the RFC 6962 API). */
int tc_tile_http_owns(const char *url);

/* Answers a request tc_tile_http_owns accepted: 200 with the file, 404
 * (no such resource, or not published), 405 for other methods. dirfd is
 * the open tiles directory (-1: publication off, everything 404). */
enum MHD_Result tc_tile_http_serve(struct MHD_Connection *conn, int dirfd, const char *method, const char *url);

#endif
