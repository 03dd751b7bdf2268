"""Lost keys (the study's open risk 3): revoke the old certificate, bind the new one.

Rights belong to the IIN/BIN, never to a key (design decision 4). When a person loses their
key, an identity officer verifies their identity (in person, with the identity document whose
hash is attached) and signs identity.replace_key: the old certificate's fingerprint is written
to the revocation key the node checks (node.schema.state_revoked), and the new certificate's
fingerprint is bound to the same person. Nothing the person holds moves: holdings, wallets
and applications are keyed by the IIN/BIN, which the new certificate carries too. Every later
signature by the old key is refused (by the node before execution, and again here).

An officer cannot replace their own key: another officer must verify them.
"""

from __future__ import annotations

from contracts import keys
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

REPLACE = {
    "person": P.person(),
    "old_fingerprint": P.digest(),
    "new_fingerprint": P.digest(),
    "verification": P.record({"method": P.enum("in_person", "video_biometric", "notarised"), "document": P.DOC}),
    "reason": P.enum("lost", "compromised", "damaged"),
}


def replace_key(env: Env, p: dict) -> Outcome:
    officer = env.official("identity_officer")
    person = p["person"]
    if any((s.iin == person or s.bin == person) for s in env.signers_with_role("identity_officer")):
        refuse("SELF_SERVICE", "an identity officer cannot replace their own key; another officer must verify you")
    old, new = p["old_fingerprint"], p["new_fingerprint"]
    if old == new:
        refuse("KEY_ALREADY_BOUND", "the new certificate must differ from the old one")
    bound_old = env.rec.get(keys.key_binding(old))
    if bound_old is not None and bound_old != person:
        refuse("KEY_NOT_PERSONS", f"certificate {old.hex()[:16]}... is bound to {bound_old}, not to {person}")
    if env.rec.raw(keys.revoked(old)) is not None:
        refuse("KEY_ALREADY_REVOKED", f"certificate {old.hex()[:16]}... is already revoked")
    bound_new = env.rec.get(keys.key_binding(new))
    if bound_new is not None or env.rec.raw(keys.revoked(new)) is not None:
        refuse("KEY_ALREADY_BOUND", f"certificate {new.hex()[:16]}... is already bound or revoked; the CA must issue a fresh one")
    record = env.rec.get(keys.person_keys(person)) or {"keys": []}
    for k in record["keys"]:
        if k["fingerprint"] == old:
            k["status"] = "revoked"
            k["revoked"] = env.stamp()
    if not any(k["fingerprint"] == old for k in record["keys"]):
        record["keys"].append({"fingerprint": old, "status": "revoked", "revoked": env.stamp()})
    record["keys"].append({"fingerprint": new, "status": "active", "bound": env.stamp()})
    env.rec.put(keys.person_keys(person), record)
    env.rec.put(keys.key_binding(old), person)
    env.rec.put(keys.key_binding(new), person)
    # The node reads this key (any value means revoked); the value says why, for auditors.
    env.rec.put(keys.revoked(old), {"person": person, "reason": p["reason"], "replaced_by": new, "officer": officer, **env.stamp()})
    env.emit("identity.key_replaced", [], [person, officer["id"]], person=person, revoked=old, bound=new,
             reason=p["reason"], status="registered", article="Design decision 4")
    return Outcome("REGISTERED", f"certificate of {person} replaced; the old key's signatures are refused from now on", "", tuple(env.events))
