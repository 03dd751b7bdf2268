"""The authentication node: cryptography, identities, storage, execution and the runtime.

Layers, from the bottom (a module may import only modules of the layers below it):
1. pure, deterministic helpers usable by `consensus/` and `contracts/`:
   errors, hashing, merkle, codec, identity, signing, schema, interfaces;
2. pki (X.509 via `cryptography`), kv (LevelDB via plyvel, and the in-memory twin),
   state_tree, state, envelope;
3. chain (execute, seal and commit blocks), store, verify (the auditor's check),
   genesis, mempool;
4. the runtime: services (gRPC), runner (the process), config.
May import: proto, consensus (runtime only), contracts (runtime only), third-party libs.
"""
