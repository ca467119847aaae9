"""gunicorn settings read by `make run` (gunicorn picks up ./gunicorn.conf.py by itself).

limit_request_line: gunicorn answers request lines over 4094 bytes with its own English "414 URI Too
Long". 0 lifts that (gunicorn still caps a line at 1 MB) so the portal answers instead: it cuts long
search queries with a note and refuses URLs over 64 KB (input_guard.MAX_URL, which must stay below
gunicorn's cap) with its own translated 414 page (portal/input_guard.py).

post_worker_init: what gunicorn still refuses itself (a line over 1 MB, oversized headers, a malformed
request) is answered with the portal's translated error page rather than gunicorn's English one
(portal/server_errors.py).

timeout: a sync worker that has not finished its request within `timeout` seconds is aborted by the arbiter,
and the request is answered 500 ("WORKER TIMEOUT" in the log). gunicorn's default of 30 s cut off the XLSX
export of 2,000 branches (about 3 s of server time, several times that on a busy machine) and the bench saw
500s; legitimately long downloads (exports, bulletin PDFs) get 120 s, a hung worker is still replaced.

access_log_format: the path without its query string (%(U)s, not the request line %(r)s) and no Referer. A query
can carry what must not sit in a log next to an address and a time: an appraisal code from an old slip
(/appraisal?code=…, now redirected to /appraisal#code=…), a search term. The format is gunicorn's default
otherwise.

post_worker_init also moves everything the worker holds once the app is loaded (modules, mappers, compiled
templates and statements: about 160,000 objects) out of the garbage collector's reach with `gc.freeze()`, as the
Python documentation advises for servers that fork: they live as long as the worker, and every full collection
otherwise walks them again, about 0.3 ms a request (issue #14's ratios count that much)."""
limit_request_line = 0
timeout = 120
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


def post_worker_init(worker):
    import gc

    from portal.server_errors import install

    install(worker)
    gc.freeze()  # after load_wsgi(): the app's long-lived objects are no longer walked by each full collection
