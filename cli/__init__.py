"""The `tamga` command: node operation, cluster set-up, the auditor's chain verification,
extract verification and the demo.

May import: anything in Tamga; it is the top of the dependency graph.
"""

from node import native

native.enable()  # before anything imports a hot module: see node/native.py
