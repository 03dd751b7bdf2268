"""Cadastre routes: the legal cadastre under the access rules of Art 17 (cadastre/access.py).
Every request here is written to the book of requests (Art 16), answered or refused.

- GET /v1/objects/{cn}/encumbrances   anyone authenticated (Art 17.3-1, 17.3-2): the
      certificate of presence or absence of encumbrances banks read before a pledge;
      ?holder=IIN confirms whether that person holds a right without disclosing others
- GET /v1/objects/{cn}                the registration sheet: full to the holder, the
      registering body, listed requesters with a ground, heirs, consent; else the public view
- GET /v1/objects/{cn}/history        every entry ever made (full access only)
- GET /v1/objects/{cn}/extract        verifiable extract (JSON or printable HTML) for the
      parties of the sheet's entries and the registering body (Art 34.1-1)
- GET /v1/persons/{id}/holdings       a person's holdings (Art 17.3; open for legal entities)
- GET /v1/search                      by cadastral number (prefix) or address words
- GET /v1/applications/{number}       an application (its parties, registering body, Art 17.2)
- GET /v1/applications                the book of documents received (registering body)
- GET /v1/requests                    the book of requests (registering body, auditors;
      a person for requests about themself)
May import: api, cadastre, contracts.payloads, node, fastapi.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import ERROR_SCHEMA
from api.services import Answer
from cadastre import access, extract, extract_html, facts, reads, redact, requests_book
from node.errors import NotFound
from node.identity import validate_person_id

router = APIRouter(tags=["cadastre"])

CN = r"^\d{2}-\d{3}-\d{3}-\d{3,4}(:\d{1,4}){0,2}$"
PERSON = r"^\d{12}$"
_ERR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
_DENIED = {401: _ERR, 403: _ERR, 404: _ERR}
HEIGHT = Query(None, ge=0, le=2**62, description="as of this height (default: the latest)")
HEIR_OF = Query(None, pattern=PERSON, description="an heir names the holder they inherit from (Art 17.3.5; needs X-Tamga-Ground)")


def _svc(request: Request):
    return request.app.state.svc


def _as_of(svc, height: int | None) -> int:
    if height is not None and height > svc.projection.height:
        raise NotFound(f"the cadastre holds heights up to {svc.projection.height}; asked for {height}")
    return svc.projection.height if height is None else height


def _time_of(svc, height: int) -> int | None:
    b = reads.block(svc.db, height)
    return None if b is None else b["time_ms"]


def _filter(sheet_like, caller: access.Caller):
    """Art 17.1 on anything leaving: the registering body sees records as they are."""
    if caller.is_registering_body:
        return sheet_like
    return redact.personal_data(sheet_like, caller.ids)


@router.get("/v1/objects/{cn}/encumbrances", summary="Certificate of presence or absence of encumbrances (open to anyone, Art 17.3-1)", responses=_DENIED)
async def encumbrances(request: Request, cn: str = Path(pattern=CN), height: int | None = HEIGHT,
                       holder: str | None = Query(None, pattern=PERSON, description="confirm whether this IIN/BIN holds a right in the object")):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=cn, scope="object")
        as_of = _as_of(svc, height)
        _, cert, version = reads.object_row(svc.db, cn, as_of)
        keep = set(caller.ids)
        body = {"cadastral_number": cn, "as_of_height": as_of, "as_of_time_ms": _time_of(svc, as_of), "version_height": version}
        if holder is not None:
            holds = any(h.get("id") == holder for h in cert.get("holders") or [])
            body["holder_check"] = {"id": holder, "holds_right": holds}
            if holds:
                keep.add(holder)
        body["certificate"] = cert if caller.is_registering_body else redact.personal_data(cert, keep)
        given = "certificate of encumbrances: " + ("encumbered" if cert.get("encumbered") else "no encumbrances")
        return Answer(body, given, "open", "Art 17.3-1, 17.3-2", caller.ground)

    return await svc.answer(request, "encumbrance_certificate", cn, produce)


@router.get("/v1/objects/{cn}", summary="The registration sheet (Art 14): full or public view by Art 17", responses=_DENIED)
async def get_object(request: Request, cn: str = Path(pattern=CN), height: int | None = HEIGHT,
                     view: str = Query("auto", pattern="^(auto|full|public)$", description="full refuses instead of falling back to the public view"),
                     heir_of: str | None = HEIR_OF):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=cn, scope="object", heir_of=heir_of)
        as_of = _as_of(svc, height)
        sheet, _, version = reads.object_row(svc.db, cn, as_of)
        holders = {pid for e in facts.rights(sheet) for pid in facts.holder_ids(e)}
        if view == "public":
            acc = access.Access(access.PUBLIC, "open", "Art 17.3-1, 17.3-2")
        else:
            acc = access.object_access(caller, cn, holders, want_full=view == "full")
        shown = _filter(sheet, caller) if acc.level == access.FULL else redact.personal_data(redact.public_view(sheet), caller.ids)
        body = {
            "cadastral_number": cn, "as_of_height": as_of, "as_of_time_ms": _time_of(svc, as_of), "version_height": version,
            "access": {"level": acc.level, "basis": acc.basis, "article": acc.article}, "sheet": shown,
        }
        return Answer(body, f"registration sheet ({acc.level} view)", acc.basis, acc.article, caller.ground)

    return await svc.answer(request, "object_sheet", cn, produce)


@router.get("/v1/objects/{cn}/history", summary="Every entry ever made on the sheet, cancelled ones included (full access)", responses=_DENIED)
async def history(request: Request, cn: str = Path(pattern=CN), heir_of: str | None = HEIR_OF):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=cn, scope="object", heir_of=heir_of)
        sheet, _, _ = reads.object_row(svc.db, cn)
        holders = {pid for e in facts.rights(sheet) for pid in facts.holder_ids(e)}
        acc = access.object_access(caller, cn, holders, want_full=True)
        body = {"cadastral_number": cn, "versions": reads.versions(svc.db, cn), "entries": _filter(reads.history(svc.db, cn), caller),
                "access": {"level": acc.level, "basis": acc.basis, "article": acc.article}}
        return Answer(body, "history of entries", acc.basis, acc.article, caller.ground)

    return await svc.answer(request, "object_history", cn, produce)


@router.get(
    "/v1/objects/{cn}/extract",
    summary="Verifiable extract (the electronic registration notice, Art 34.1-1): JSON with proofs and the commit certificate, or printable HTML",
    responses={**_DENIED, 200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def get_extract(request: Request, cn: str = Path(pattern=CN), height: int | None = Query(None, ge=1, le=2**62),
                      kind: str = Query("sheet", pattern="^(sheet|encumbrances)$"), format: str = Query("json", pattern="^(json|html)$")):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=cn, scope="object")
        sheet, _, _ = reads.object_row(svc.db, cn)
        parties = facts.parties(sheet)
        if not (caller.ids & parties or caller.is_registering_body):
            raise access.AccessDenied(
                "an extract holds the records as registered, personal data included, so it goes to the parties of the sheet's entries "
                "(holders, pledgees, pledgors, authorities, claimants) and the registering body (Art 17.1, 34.1-1); "
                "others read the filtered sheet at /v1/objects/{cn}",
                details={"article": "Art 17.1, 34.1-1"},
            )
        doc = extract.build(svc.chain, cn=cn, kind=kind, height=height, signer=svc.rt.signer, issuer=svc.rt.config.name,
                            validator_certificates=svc.validator_certificates, now_ms=svc.now_ms())
        basis = "holder" if caller.ids & parties else "registering_body"
        return Answer(doc, f"verifiable extract ({kind}, height {doc['height']}, {format})", basis, "Art 34.1-1")

    doc = await svc.answer(request, "extract", cn, produce)
    filename = f"extract-{cn.replace(':', '_')}-{doc['height']}"
    if format == "html":
        return HTMLResponse(extract_html.render(doc), headers={"Content-Disposition": f'inline; filename="{filename}.html"'})
    return Response(extract.encode(doc), media_type="application/json", headers={"Content-Disposition": f'attachment; filename="{filename}.json"'})


@router.get("/v1/persons/{person_id}/holdings", summary="A person's holdings (Art 17.3; open for legal entities)", responses=_DENIED)
async def holdings(request: Request, person_id: str = Path(pattern=PERSON), heir_of: str | None = HEIR_OF):
    svc = _svc(request)

    def produce(cred) -> Answer:
        validate_person_id(person_id)
        caller = svc.caller(request, cred, subject=person_id, scope="holdings", heir_of=heir_of)
        acc = access.holdings_access(caller, person_id)
        rows = reads.holdings(svc.db, person_id)
        keep = caller.ids | {person_id}
        body = {"person": person_id, "as_of_height": svc.projection.height, "holdings": rows if caller.is_registering_body else redact.personal_data(rows, keep),
                "access": {"level": acc.level, "basis": acc.basis, "article": acc.article}}
        return Answer(body, f"holdings ({len(rows)} objects)", acc.basis, acc.article, caller.ground)

    return await svc.answer(request, "holdings", person_id, produce)


@router.get("/v1/search", summary="Find objects by cadastral number (or its beginning) or by address words", responses=_DENIED)
async def search(request: Request, cadastral_number: str | None = Query(None, max_length=200), address: str | None = Query(None, max_length=200),
                 limit: int = Query(50, ge=1, le=500)):
    svc = _svc(request)
    subject = cadastral_number or address

    def produce(cred) -> Answer:
        rows = reads.search(svc.db, cadastral_number=cadastral_number, address=address, limit=limit)
        return Answer({"results": rows}, f"search results ({len(rows)} objects, identification only)", "open", "Art 17.3-2")

    return await svc.answer(request, "search", subject, produce)


@router.get("/v1/applications/{number}", summary="An application in the book of documents received (Art 13)", responses=_DENIED)
async def get_application(request: Request, number: int = Path(ge=1, le=2**62)):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=str(number), scope="object")
        app = reads.application(svc.db, number)
        acc = access.application_access(caller, set(app.get("applicants") or []) | set(app.get("parties") or []))
        return Answer(_filter(app, caller), "application record", acc.basis, acc.article, caller.ground)

    return await svc.answer(request, "application", str(number), produce)


@router.get("/v1/applications", summary="The book of documents received, in filing order (registering body)", responses=_DENIED)
async def list_applications(request: Request, status: str | None = Query(None, pattern="^(filed|suspended|registered|refused|withdrawn)$"),
                            object: str | None = Query(None, pattern=CN), after: int = Query(0, ge=0, le=2**62), limit: int = Query(100, ge=1, le=500)):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=object, scope="object")
        access.require_any_role(caller, access.REGISTERING_BODY + ("auditor",), "the book of documents received")
        rows = reads.applications(svc.db, status=status, cn=object, after=after, limit=limit)
        return Answer({"applications": _filter(rows, caller)}, f"book of documents ({len(rows)} applications)", "registering_body", "Art 13")

    return await svc.answer(request, "book_of_documents", object, produce)


@router.get("/v1/requests", summary="The book of information requests (Art 16)", responses=_DENIED)
async def list_requests(request: Request, subject: str | None = Query(None, max_length=200), requester: str | None = Query(None, pattern=PERSON),
                        after: int = Query(0, ge=0, le=2**62), limit: int = Query(100, ge=1, le=500)):
    svc = _svc(request)

    def produce(cred) -> Answer:
        caller = svc.caller(request, cred, subject=subject, scope="object")
        own = subject is not None and (subject in caller.ids or (reads.object_exists(svc.db, subject) and caller.ids & set(reads.holders_of(svc.db, subject))))
        if not (own or caller.credential.has_role(*access.REGISTERING_BODY, "auditor")):
            raise access.AccessDenied("the book of requests is read by the registering body and auditors; a person reads the requests about themself or their objects (subject=...)")
        rows = requests_book.entries(svc.db, subject=subject, requester_id=requester, after_id=after, limit=limit)
        return Answer({"requests": _filter(rows, caller)}, f"book of requests ({len(rows)} entries)", "subject" if own else "registering_body", "Art 16")

    return await svc.answer(request, "book_of_requests", subject, produce)
