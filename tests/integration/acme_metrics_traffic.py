#!/usr/bin/python3
"""ACME traffic whose figures metrics_test.sh checks (issue 14).

With certbot's ACME library (python3-acme): one request refused before any
handler (a POST with the wrong Content-Type: trustchain_acme_jws_refusals_total
{reason=content_type}), one account, one order (orders_total{state=pending}),
and its http-01 challenge answered with nobody listening on the validation
port, so the validator's check fails (validations_total{check=http-01:...}).
Prints the order's final status.

usage: acme_metrics_traffic.py DIRECTORY_URL ROOT_PEM NAME
"""
import datetime
import ssl
import sys
import time
import urllib.error
import urllib.request

import josepy as jose
from acme import challenges, client, messages
from acme import crypto_util
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

directory_url, root_pem, name = sys.argv[1:4]

ctx = ssl.create_default_context(cafile=root_pem)
new_account_url = directory_url.rsplit("/", 1)[0] + "/new-account"
try:
    urllib.request.urlopen(urllib.request.Request(new_account_url, data=b"{}",
                                                  headers={"Content-Type": "text/plain"}), context=ctx)
    sys.exit("FAIL: a POST with Content-Type text/plain was accepted")
except urllib.error.HTTPError as e:
    if e.code != 415:
        sys.exit("FAIL: wrong Content-Type answered %d, not 415" % e.code)

net = client.ClientNetwork(jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1())), alg=jose.ES256,
                           verify_ssl=root_pem, user_agent="metrics_test")
acme = client.ClientV2(client.ClientV2.get_directory(directory_url, net), net)
acme.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
cert_key = ec.generate_private_key(ec.SECP256R1())
pem = cert_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
orderr = acme.new_order(crypto_util.make_csr(pem, [name]))
for authz in orderr.authorizations:
    for chall in authz.body.challenges:
        if isinstance(chall.chall, challenges.HTTP01):
            acme.answer_challenge(chall, chall.response(net.key))
end = time.time() + 60
while time.time() < end:
    status = messages.Order.from_json(acme._post_as_get(orderr.uri).json()).status
    if status != messages.STATUS_PENDING:
        break
    time.sleep(0.5)
print("order %s" % status)
