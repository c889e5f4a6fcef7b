#include "transparency/tile_http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transparency/tile_path.h"

int tc_tile_http_owns(const char *url)
{
	return strcmp(url, "/checkpoint") == 0 || strncmp(url, "/tile/", 6) == 0 || strncmp(url, "/issuer/", 8) == 0;
}

static enum MHD_Result plain(struct MHD_Connection *conn, unsigned status, const char *msg, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Opens rel beneath dirfd, each component without following a link. */
static int open_beneath(int dirfd, const char *rel)
{
	char path[TC_TILE_PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", rel) >= (int)sizeof(path))
		return -1;
	int fd = dup(dirfd);
	char *part = path, *slash;
	while (fd >= 0 && (slash = strchr(part, '/')) != NULL) {
		*slash = 0;
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		part = slash + 1;
	}
	if (fd < 0)
		return -1;
	int file = openat(fd, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	return file;
}

enum MHD_Result tc_tile_http_serve(struct MHD_Connection *conn, int dirfd, const char *method, const char *url)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return plain(conn, 405, "GET or HEAD only\n", "GET, HEAD");
	struct tc_tile_ref ref;
	if (tc_tile_path_parse(url + 1, &ref) != 0)
		return plain(conn, 404, "no such resource\n", NULL);
	int fd = dirfd >= 0 ? open_beneath(dirfd, url + 1) : -1;
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return plain(conn, 404, "not published\n", NULL);
	}
	/* the response owns fd from here */
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	const char *type = "application/octet-stream", *cache = TC_TILE_CACHE_IMMUTABLE;
	if (ref.kind == TC_TILE_KIND_CHECKPOINT) {
		type = "text/plain; charset=utf-8";
		cache = TC_TILE_CACHE_CHECKPOINT;
	} else if (ref.kind == TC_TILE_KIND_ISSUER) {
		type = "application/pkix-cert";
	} else if (ref.width != TC_TILE_WIDTH) {
		cache = TC_TILE_CACHE_PARTIAL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}
