"""Serve moto plus the ECS rollout simulator over HTTP (`harness serve`)."""
from __future__ import annotations

import argparse
import threading

from harness.server import HarnessServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument("--speed", type=float, default=60.0, help="virtual seconds per wall second (default 60; 0: paused, time moves only on POST /_harness/advance)")
    parser.add_argument("--seed", type=int, default=0, help="seed for ids; same scenario + seed = same timeline")


def run(args: argparse.Namespace) -> int:
    if args.speed < 0:
        print(f"harness serve: --speed {args.speed} must be 0 (paused) or more, e.g. --speed 60")
        return 2
    server = HarnessServer(host=args.host, port=args.port, speed=args.speed, seed=args.seed)
    try:
        server.start()
    except OSError as err:
        print(f"harness serve: cannot listen on {args.host}:{args.port} ({err.strerror}); pick another --port")
        return 2
    print(f"harness serve: AWS endpoint {server.url} (control: {server.url}/_harness/state), speed {args.speed}x; Ctrl-C stops",
          flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"harness serve: WARNING: listening on {args.host}: anyone who can reach port {server.port} can read, "
              "change and reset this emulator (its control endpoint checks only that the Host is an IP address)",
              flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
