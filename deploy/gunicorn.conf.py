# gunicorn settings for the portal, as measured in docs/performance.md.
# `gunicorn -c deploy/gunicorn.conf.py infinity.wsgi`; any option can be overridden on the
# command line or with GUNICORN_CMD_ARGS.
import multiprocessing

bind = "127.0.0.1:8000"
# The REGISTER check is short and CPU-bound: about one worker per core was fastest; more
# workers only add context switches (see docs/performance.md).
workers = multiprocessing.cpu_count()
# Threads keep Kamailio's http_connect() connection alive between checks; sync workers close
# the socket after every response.
worker_class = "gthread"
threads = 4
keepalive = 75
timeout = 30
graceful_timeout = 10
accesslog = None


def post_worker_init(worker):
    # Everything loaded so far (Django, the URLconf, the apps) lives as long as the worker:
    # moving it out of the collector's reach keeps full collections short. They were the
    # slowest 1% of checks (docs/performance.md: p99 at 300 checks/s).
    import gc

    gc.freeze()
