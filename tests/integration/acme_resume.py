#!/usr/bin/python3
"""Finalize answered, then kill -9 of trustchain-acme (issue 11).

With certbot's ACME library (python3-acme) as the client: an order is
validated over http-01, the gateway is stopped (SIGSTOP) so the issuance
cannot finish, finalize is posted and must answer "processing" at once
(issuance runs in the background, RFC 8555 7.4), trustchain-acme is killed
with SIGKILL, then the stopped gateway (so the request it never read is
gone). The supervisor restarts both; acme must resume the order from its
store: the order becomes valid, the
certificate downloads, and the CT log holds exactly one precertificate for
the order's name (one issuance per order across the kill).

With RESUME_MODE=cont the signer is stopped instead of the gateway: the
gateway reads acme's Issue request and waits on the signer; acme is killed
then, the signer continued, so the CA issues the request of a dead acme
while the restarted acme issues the order again under the same idempotency
key. The signer must hand back the same certificate (still one CT entry;
the shell test counts the journal's signatures for its serial).

usage: acme_resume.py DIRECTORY_URL ROOT_PEM HTTP_PORT NAME STATUS_FILE CT_URL
"""
import base64
import datetime
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.request

import josepy as jose
from acme import challenges, client, messages
from acme import crypto_util
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

directory_url, root_pem, http_port, name, status_file, ct_url = sys.argv[1:7]
mode = os.environ.get("RESUME_MODE", "kill")
tokens = {}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Responder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = tokens.get(self.path.rsplit("/", 1)[-1])
        self.send_response(200 if body else 404)
        self.end_headers()
        if body:
            self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def pid_of(child):
    with open(status_file) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == child and len(parts) > 2 and parts[2] == "ready":
                return int(parts[1])
    return 0


def wait_new_pid(child, old, seconds):
    end = time.time() + seconds
    while time.time() < end:
        pid = pid_of(child)
        if pid and pid != old:
            return pid
        time.sleep(0.2)
    fail("%s not ready again within %d s" % (child, seconds))


def precerts_for(name_bytes):
    """Precertificate entries of the CT log naming NAME (every entry is read)."""
    ctx = ssl.create_default_context(cafile=root_pem) if ct_url.startswith("https") else None
    sth = json.load(urllib.request.urlopen(ct_url + "/ct/v1/get-sth", context=ctx))
    n, start, count = sth["tree_size"], 0, 0
    while start < n:
        url = "%s/ct/v1/get-entries?start=%d&end=%d" % (ct_url, start, min(n, start + 256) - 1)
        entries = json.load(urllib.request.urlopen(url, context=ctx))["entries"]
        if not entries:
            break
        for e in entries:
            leaf = base64.b64decode(e["leaf_input"])
            # MerkleTreeLeaf: version, leaf_type, timestamp(8), entry_type(2): 1 = precert
            if leaf[10:12] == b"\x00\x01" and name_bytes in leaf:
                count += 1
        start += len(entries)
    return count


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", int(http_port)), Responder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    key = ec.generate_private_key(ec.SECP256R1())
    net = client.ClientNetwork(jose.JWKEC(key=key), alg=jose.ES256, verify_ssl=root_pem,
                               user_agent="acme_resume_test")
    directory = client.ClientV2.get_directory(directory_url, net)
    acme = client.ClientV2(directory, net)
    acme.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
    cert_key = ec.generate_private_key(ec.SECP256R1())
    pem = cert_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    csr_pem = crypto_util.make_csr(pem, [name])
    orderr = acme.new_order(csr_pem)
    for authz in orderr.authorizations:
        for chall in authz.body.challenges:
            if isinstance(chall.chall, challenges.HTTP01):
                response, validation = chall.response_and_validation(net.key)
                tokens[chall.chall.encode("token")] = validation
                acme.answer_challenge(chall, response)
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    orderr = acme.poll_authorizations(orderr, deadline)
    print("ok: authorization valid")

    gateway = pid_of("gateway")
    acme_pid = pid_of("acme")
    if not gateway or not acme_pid:
        fail("no gateway or acme pid in " + status_file)
    stopped = pid_of("signer") if mode == "cont" else gateway
    if not stopped:
        fail("no signer pid in " + status_file)
    os.kill(stopped, signal.SIGSTOP)
    try:
        csr = messages.CertificateRequest(
            csr=jose.ComparableX509(__import__("OpenSSL").crypto.load_certificate_request(
                __import__("OpenSSL").crypto.FILETYPE_PEM, csr_pem)))
        t0 = time.time()
        resp = acme._post(orderr.body.finalize, csr)
        took = time.time() - t0
        body = resp.json()
        if body.get("status") != "processing":
            fail("finalize answered %s while the CA was stopped, not processing" % body.get("status"))
        if "Retry-After" not in resp.headers:
            fail("finalize's processing answer has no Retry-After")
        print("ok: finalize answered processing in %.0f ms (Retry-After %s) with the %s stopped"
              % (took * 1e3, resp.headers["Retry-After"], "signer" if mode == "cont" else "gateway"))
        if mode == "cont":
            time.sleep(1.5)  # the Issue reaches the gateway, which waits on the signer
        os.kill(acme_pid, signal.SIGKILL)
        print("ok: kill -9 of trustchain-acme (pid %d)" % acme_pid)
        # kill: the Issue request acme had sent sits unread in the stopped
        # gateway's socket; the gateway goes too, so the CA never sees it.
        # cont: the gateway has it and completes it once the signer is
        # continued, before (or while) the restarted acme issues the order
        # again with the same idempotency key.
        if mode == "kill":
            os.kill(gateway, signal.SIGKILL)
    finally:
        try:
            os.kill(stopped, signal.SIGCONT)
        except ProcessLookupError:
            pass
    if mode == "kill":
        wait_new_pid("gateway", gateway, 90)
    wait_new_pid("acme", acme_pid, 90)
    print("ok: trustchain-acme restarted (%s)" % ("and the gateway" if mode == "kill" else "signer continued"))
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    while datetime.datetime.now() < deadline:
        try:
            body = messages.Order.from_json(acme._post_as_get(orderr.uri).json())
        except Exception as e:  # the pair re-linking: 503 retry
            print("poll: %s" % e)
            time.sleep(1)
            continue
        if body.status == messages.STATUS_INVALID:
            fail("the resumed order is invalid: %s" % body.error)
        if body.status == messages.STATUS_VALID and body.certificate:
            chain = acme._post_as_get(body.certificate).text
            if "BEGIN CERTIFICATE" not in chain:
                fail("no certificate at " + body.certificate)
            with open(os.environ.get("RESUME_CERT", "/dev/null"), "w") as f:
                f.write(chain)
            print("ok: the order finalized before the kill is valid after the restart")
            break
        time.sleep(1)
    else:
        fail("the order did not become valid within 60 s of the restart")
    # Sequencing into the tree is periodic: wait until the entry shows.
    end = time.time() + 30
    n = 0
    while time.time() < end:
        n = precerts_for(name.encode())
        if n:
            break
        time.sleep(1)
    time.sleep(3)  # a second issuance, had there been one, is logged by now too
    n = precerts_for(name.encode())
    if n != 1:
        fail("%d CT entries name %s: want exactly one issuance for the order" % (n, name))
    print("ok: exactly one CT entry names %s" % name)


main()
