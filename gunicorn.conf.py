"""gunicorn settings for the PaaS (the Procfile points here). Tuned by environment variables."""

import os
import re
import subprocess
import sys

from gunicorn.glogging import Logger

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# gevent: each connection is a greenlet, not a thread. A worker waiting on JustClick, or on a client
# that sends its request slowly (or not at all), still serves everyone else; gunicorn patches the
# standard library (sockets, threads, sleep) before it loads the desk.
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("GUNICORN_CONNECTIONS", "1000"))
# Longer than the JustClick read timeout, so a slow upstream never gets a worker killed mid-order;
# on shutdown, in-flight orders get as long to finish.
timeout = int(float(os.environ.get("JUSTCLICK_TIMEOUT", "30"))) + 30
graceful_timeout = timeout
keepalive = 5
accesslog = "-"
errorlog = "-"
# The app logs each request itself (with operator and request id); gunicorn's access line is brief.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms worker=%(p)s'


class AccessLog(Logger):
    """gunicorn's access line without the query string (prefill links carry customer emails) and
    with control characters escaped, so that no request can forge a line."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("RAW_URI", "").split("?", 1)[0]
        atoms["r"] = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda c: c[0].encode("unicode_escape").decode(),
                            f"{environ['REQUEST_METHOD']} {path} {environ['SERVER_PROTOCOL']}")
        return atoms


logger_class = AccessLog
# The PaaS manages the process with signals; a control socket at a fixed path would also be shared
# by every gunicorn on the machine.
control_socket_disable = True


def on_starting(server):
    """Start the desk once in a child process before any worker: a desk that cannot start (settings,
    instance folder) says why once and stops, with the child's exit status. Workers failing together
    would each say it, and gunicorn halts on the second failure with a traceback of its own."""
    check = subprocess.run([sys.executable, "-c", "import webapp; webapp.create_app()"],
                           capture_output=True, text=True)
    if check.returncode:
        sys.stderr.write(check.stderr)
        raise SystemExit(check.returncode)
