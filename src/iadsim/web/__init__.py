"""``iadsim serve``: the browser workbench's HTTP API (FastAPI) and its static page.

:func:`iadsim.web.app.create_app` builds the application over a data directory
(:mod:`iadsim.web.storage`): scenarios posted by the page (:mod:`iadsim.web.scenarios`), their
coverage at any altitude from per-site passes computed once (:mod:`iadsim.web.coverage`).
docs/web.md describes the API.
"""
