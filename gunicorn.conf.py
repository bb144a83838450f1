"""gunicorn settings: ``gunicorn app:server`` reads this file from the working directory.

Each worker builds its own app, with its own connection pool and its own in-memory counts of the
latest release, and may make releases itself, one at a time with the other workers through the
store's lock (see docs/deploy.md): the app is not preloaded in the master, so no connection or
thread crosses a fork. Values can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = 4
worker_class = "gthread"
preload_app = False
timeout = 30
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests, as a guard against a slow leak in a library:
# rarely, since a new worker counts every published response before it serves (about 8 s of CPU
# at a million), and what a worker keeps is bounded (docs/deploy.md).
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
# No query strings in the access log: the request line only, the status, size and timing.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), shared by
# every server that user runs on the machine; this app does not use it.
control_socket_disable = True


def post_worker_init(worker):
    """Once the worker has built the app: what it built (modules, the app, the counts) lives as
    long as the worker, so the cyclic garbage collector is told to leave it alone instead of
    walking it again on each of its full collections."""
    import gc

    gc.freeze()
