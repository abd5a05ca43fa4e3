"""Build tools of the repository, outside the runtime package (the wheel leaves them out).

``piqi_compiler``: the Piqi -> ``.proto`` -> Python translator behind ``make proto``. Run
it from the repository root as ``python tools/piqi_compiler.py``; the tests import it as
``tools.piqi_compiler``.
"""
