"""The local web page (``cnncalc serve``): FastAPI + uvicorn, an optional extra (``pip install cnncalc[web]``)."""
