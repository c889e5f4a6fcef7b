/* DoQ stream framing: a 2-octet length prefix around exactly one message. */
#include "resolver/doq.h"

#include <string.h>

#include "resolver/dns_wire.h"

enum tc_doq_result tc_doq_frame_parse(const uint8_t *stream, size_t len, bool fin,
				      const uint8_t **msg, size_t *msglen)
{
	*msg = NULL;
	*msglen = 0;
	if (len < 2)
		return fin ? TC_DOQ_FRAME_PROTOCOL_ERROR : TC_DOQ_FRAME_INCOMPLETE;
	size_t want = tc_dns_get16(stream);
	if (want < TC_DNS_HEADER_LEN)
		return TC_DOQ_FRAME_PROTOCOL_ERROR;
	if (len - 2 < want)
		return fin ? TC_DOQ_FRAME_PROTOCOL_ERROR : TC_DOQ_FRAME_INCOMPLETE;
	if (len - 2 > want)
		return TC_DOQ_FRAME_PROTOCOL_ERROR;   /* a second message or garbage on the stream */
	if (tc_dns_get16(stream + 2) != 0)
		return TC_DOQ_FRAME_PROTOCOL_ERROR;   /* §4.2.1: Message ID MUST be 0 */
	*msg = stream + 2;
	*msglen = want;
	return TC_DOQ_FRAME_OK;
}

int tc_doq_frame_response(const uint8_t *msg, size_t msglen, uint8_t *out, size_t outcap,
			  size_t *outlen)
{
	if (msglen == 0 || msglen > TC_DNS_MAX_MSG || outcap < 2 || msglen > outcap - 2)
		return -1;
	memmove(out + 2, msg, msglen);
	tc_dns_put16(out, (uint16_t)msglen);
	*outlen = msglen + 2;
	return 0;
}
