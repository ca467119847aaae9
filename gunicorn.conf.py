"""gunicorn settings read by `make run` (gunicorn picks up ./gunicorn.conf.py by itself).

limit_request_line: gunicorn answers request lines over 4094 bytes with its own English "414 URI Too
Long". 0 lifts that (gunicorn still caps a line at 1 MB) so the portal answers instead: it cuts long
search queries with a note and refuses URLs over 16 KB with its own translated 414 page
(portal/input_guard.py)."""
limit_request_line = 0
