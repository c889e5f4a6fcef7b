/* Fuzz target: what a peer can send the signer. The first two input bytes
 * seed how the rest is split into reads (the reader must give the same
 * frames whatever the chunking); each frame is decoded as a Request, the way
 * the signer does before dispatching, and freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc_frame.h"
#include "internal/signer.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *payload, size_t len)
{
	Trustchain__Internal__Request *req = trustchain__internal__request__unpack(NULL, len, payload);
	if (req) {
		/* Touch what dispatch would read first. */
		volatile uint64_t id = req->id;
		volatile int op = (int)req->op_case;
		(void)id;
		(void)op;
		trustchain__internal__request__free_unpacked(req, NULL);
	}
	/* Clients decode the same bytes as a Response. */
	Trustchain__Internal__Response *resp = trustchain__internal__response__unpack(NULL, len, payload);
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t rng = ((uint32_t)data[0] << 8 | data[1]) * 2654435761u + 1;
	data += 2;
	size -= 2;

	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	size_t off = 0, frames = 0;
	int closed = 0;
	while (off < size && !closed) {
		rng = rng * 1103515245u + 12345u;
		size_t chunk = 1 + (rng >> 16) % 64;
		if (chunk > size - off)
			chunk = size - off;
		if (tc_frame_reader_append(&r, data + off, chunk) != 0)
			break;
		off += chunk;
		for (;;) {
			const uint8_t *payload;
			size_t len;
			const char *why = NULL;
			enum tc_frame_status st = tc_frame_reader_next(&r, &payload, &len, &why);
			if (st == TC_FRAME_NEED_MORE)
				break;
			if (st == TC_FRAME_ERROR) {
				if (!why)
					abort(); /* every error explains itself */
				closed = 1; /* the signer closes such a peer */
				break;
			}
			if (len == 0 || len > TC_IPC_MAX_FRAME)
				abort();
			decode(payload, len);
			frames++;
		}
	}
	tc_frame_reader_free(&r);
	(void)frames;
	return 0;
}
