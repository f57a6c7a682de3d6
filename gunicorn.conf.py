"""gunicorn settings for the PaaS (the Procfile points here). Tuned by environment variables."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"  # threads: a worker waiting on JustClick still serves other operators
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Longer than the JustClick read timeout, so a slow upstream never gets a worker killed mid-order;
# on shutdown, in-flight orders get as long to finish.
timeout = int(float(os.environ.get("JUSTCLICK_TIMEOUT", "30"))) + 30
graceful_timeout = timeout
keepalive = 5
accesslog = "-"
errorlog = "-"
# The app logs each request itself (with operator and request id); gunicorn's access line is brief.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms worker=%(p)s'
# The PaaS manages the process with signals; a control socket at a fixed path would also be shared
# by every gunicorn on the machine.
control_socket_disable = True
