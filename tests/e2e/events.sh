#!/usr/bin/env bash
# tests/e2e/events.sh — events delivered to a webhook end to end.
#
# 1. Starts a small Python http.server receiver that records every POST (headers and body) and
#    answers 503 to the very first one, then 200.
# 2. Starts Wharf (lib.sh) with one webhook from the environment (WHARF_WEBHOOK_URL, _SECRET,
#    _DETAIL_TYPES="ECR Image Action") and a one-second job retry (WHARF_JOB_RETRY_BASE_SECS).
# 3. Pushes an image with crane, deletes it with the AWS CLI (BatchDeleteImage by tag).
# 4. Checks in Python: an "ECR Image Action" PUSH with the pushed digest and tag and a DELETE with
#    the digest and tag; the delivery that got the 503 arrives again with the same body; every delivery
#    carries X-Wharf-Event-Id matching the body's id, a recent X-Wharf-Timestamp and an
#    X-Wharf-Signature that is the HMAC-SHA256 of the body under the secret.
#
# Environment: WHARF_BIN, KEEP_TMP, READY_TIMEOUT (lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VENV="${WHARF_TOOLS_DIR:-$HOME/.cache/wharf-tools}/venv"
need crane curl python3
[[ -x "$VENV/bin/aws" ]] || { echo "missing $VENV/bin/aws (run scripts/install-test-deps.sh)" >&2; exit 2; }
[[ "$E2E_REGISTRY" == wharf ]] || { echo "events.sh configures a single Wharf node's webhooks" >&2; exit 2; }

work=$(mktemp_e2e)
SECRET="e2e-webhook-secret-$RANDOM$RANDOM"
HOOK_PORT=$(free_port)
cat >"$work/receiver.py" <<'PY'
import base64, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, out = int(sys.argv[1]), sys.argv[2]
seen = 0

class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen += 1
        status = 503 if seen == 1 else 200
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "status": status,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": base64.b64encode(body).decode()}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
python3 "$work/receiver.py" "$HOOK_PORT" "$work/received.jsonl" &
HOOK_PID=$!
trap 'kill "$HOOK_PID" 2>/dev/null || true; e2e_cleanup' EXIT
touch "$work/received.jsonl"

export WHARF_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/hook"
export WHARF_WEBHOOK_SECRET="$SECRET"
export WHARF_WEBHOOK_DETAIL_TYPES="ECR Image Action"
export WHARF_JOB_RETRY_BASE_SECS=1 WHARF_JOB_RETRY_MAX_SECS=2
registry_start
R=$REG_HOST
ADMIN_KEY=$(sed -n 's/^aws_access_key_id = //p' "$REG_DATA/credentials")
ADMIN_SECRET=$(sed -n 's/^aws_secret_access_key = //p' "$REG_DATA/credentials")
aws_ecr() {
  AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$VENV/bin/aws" ecr --endpoint-url "$REG_URL" --output json "$@"
}

export DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$REG_PASS" | crane auth login "$R" -u AWS --password-stdin >/dev/null 2>&1
python3 "$E2E_LIB_DIR/mkimage.py" --out "$work/src" --layers 1 --layer-size $((16 * 1024)) \
  --docker-tar "$work/image.tar" --tag "events/app:v1" >/dev/null
check "crane push" crane push --insecure "$work/image.tar" "$R/events/app:v1"
DIGEST=$(crane digest --insecure "$R/events/app:v1")
check "AWS CLI batch-delete-image by tag" aws_ecr batch-delete-image --repository-name events/app --image-ids imageTag=v1

# Deliveries: two events, one of them twice (503, then 200 after the retry).
deadline=$((SECONDS + 60))
while (($(wc -l <"$work/received.jsonl") < 3 && SECONDS < deadline)); do sleep 0.2; done
check "three deliveries arrived" test "$(wc -l <"$work/received.jsonl")" -ge 3

check "events are EventBridge-shaped, signed, and retried after a 503" python3 - "$work/received.jsonl" "$SECRET" "$DIGEST" <<'PY'
import base64, hashlib, hmac, json, sys, time
path, secret, digest = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
rows = [json.loads(l) for l in open(path)]
events = []
for r in rows:
    body = base64.b64decode(r["body"])
    h = r["headers"]
    want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["x-wharf-signature"], want), (h, want)
    assert h["content-type"] == "application/json", h
    assert abs(time.time() - int(h["x-wharf-timestamp"])) < 300, h
    e = json.loads(body)
    assert h["x-wharf-event-id"] == e["id"], (h, e["id"])
    assert r["path"] == "/hook"
    for k in ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"):
        assert k in e, (k, e)
    assert e["source"] == "aws.ecr" and e["detail-type"] == "ECR Image Action", e
    assert e["resources"] == [f"arn:aws:ecr:{e['region']}:{e['account']}:repository/events/app"], e
    events.append((r["status"], body, e))
# Deliveries run in parallel, so the order is not fixed: the first one answered 503 and was
# delivered again, byte for byte, after the backoff.
assert events[0][0] == 503 and all(st == 200 for st, _, _ in events[1:]), [st for st, _, _ in events]
again = [b for st, b, _ in events[1:] if b == events[0][1]]
assert len(again) == 1, "the retry resends the same event once"
by_action = {}
for _, _, e in events:
    by_action.setdefault(e["detail"]["action-type"], {})[e["id"]] = e
assert sorted(by_action) == ["DELETE", "PUSH"] and all(len(v) == 1 for v in by_action.values()), by_action
push = next(iter(by_action["PUSH"].values()))
d = push["detail"]
assert d == {**d, "result": "SUCCESS", "repository-name": "events/app", "image-digest": digest,
             "image-tag": "v1"}, d
assert d["manifest-media-type"].startswith("application/"), d
dd = next(iter(by_action["DELETE"].values()))["detail"]
assert (dd["image-digest"], dd["image-tag"], dd["result"]) == (digest, "v1", "SUCCESS"), dd
print(f"{len(rows)} deliveries, {len({e['id'] for _, _, e in events})} events verified")
PY

# Completion is recorded just after the receiver answers: wait for both jobs to read done.
done_jobs() { "$WHARF_BIN" jobs list --data-dir "$REG_DATA" --kind webhook --state done 2>>"$REG_LOG" | grep -c webhook || true; }
deadline=$((SECONDS + 20))
while [[ "$(done_jobs)" != 2 && SECONDS -lt deadline ]]; do sleep 0.3; done
check "wharf jobs list shows both webhook jobs done" test "$(done_jobs)" = 2
summary
