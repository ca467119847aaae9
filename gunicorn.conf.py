"""gunicorn settings read by `make run` (gunicorn picks up ./gunicorn.conf.py by itself).

limit_request_line: gunicorn answers request lines over 4094 bytes with its own English "414 URI Too
Long". 0 lifts that (gunicorn still caps a line at 1 MB) so the portal answers instead: it cuts long
search queries with a note and refuses URLs over 16 KB with its own translated 414 page
(portal/input_guard.py).

post_worker_init: what gunicorn still refuses itself (a line over 1 MB, oversized headers, a malformed
request) is answered with the portal's translated error page rather than gunicorn's English one
(portal/server_errors.py)."""
limit_request_line = 0


def post_worker_init(worker):
    from portal.server_errors import install

    install(worker)
