#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when the service's liveness endpoint answers 200, else 1.

It checks, in order: the URL given as the first argument, ``REELFLOW_HEALTHCHECK_URL``, then a worker's
``http://127.0.0.1:$REELFLOW_HEALTH_PORT/healthz``. The gateway serves its health on its HTTP port, so its
container sets ``REELFLOW_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz``. Standard library only: it must work in
any container built from the image, with nothing but the interpreter.
"""

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SEC = 4.0
DEFAULT_WORKER_HEALTH_PORT = "8080"


def health_url(argv: list[str], env: dict[str, str]) -> str:
    if len(argv) > 1 and argv[1]:
        return argv[1]
    if env.get("REELFLOW_HEALTHCHECK_URL"):
        return env["REELFLOW_HEALTHCHECK_URL"]
    port = env.get("REELFLOW_HEALTH_PORT") or DEFAULT_WORKER_HEALTH_PORT
    return f"http://127.0.0.1:{port}/healthz"


def main() -> int:
    url = health_url(sys.argv, dict(os.environ))
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        sys.stderr.write(f"healthcheck: refusing {url!r}: only a loopback http URL is checked\n")
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SEC) as response:  # noqa: S310 - loopback http only, above
            status = response.status
    except (urllib.error.URLError, OSError) as error:
        sys.stderr.write(f"healthcheck: GET {url} failed: {error}\n")
        return 1
    if status != 200:
        sys.stderr.write(f"healthcheck: GET {url} answered {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
