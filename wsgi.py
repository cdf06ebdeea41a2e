"""WSGI entry point: `app = create_app()`.

Once the app is built, the objects it holds for its life (the spec's schemas: some 450,000 tracked objects) are
moved out of the garbage collector's sight (`gc.freeze`): a full collection walked them all, 0.16 s, every other
request of a large answer (measured on the duty period check, issue 11).
"""

import gc

from api import create_app

app = create_app()
gc.freeze()
