"""The local interactive explorer (``convtrace serve``): a FastAPI app and a static page.

:mod:`convtrace.web.service` holds everything the API does (limits, explaining, drawing,
the PyTorch snippet) without FastAPI; :mod:`convtrace.web.app` is the thin FastAPI layer
(the ``web`` extra, imported only by ``convtrace serve`` and the tests).
"""
