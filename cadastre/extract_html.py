"""The printable page of an extract: the sheet in its four sections (Art 14), the block and
signatures that certify it, and the JSON document itself embedded, so the page can be
archived with what `tamga extract verify` checks. The page is a rendering: only the JSON is
verified. Pure (f-strings, html.escape); may import cadastre.facts.
"""

from __future__ import annotations

import datetime
import html
import json

from cadastre import facts


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _share(s) -> str:
    return f"{s[0]}/{s[1]}" if isinstance(s, list) and len(s) == 2 else _e(s)


def _entry_rows(entries: list[dict]) -> str:
    if not entries:
        return '<tr><td colspan="5" class="none">none</td></tr>'
    rows = []
    for e in entries:
        who = ", ".join(f"{_e(h.get('id'))} ({_share(h.get('share'))})" for h in e.get("holders") or [])
        who = who or ", ".join(_e(e.get(f)) for f in facts.PARTY_FIELDS if e.get(f))
        reg = e.get("registered") or {}
        ended = e.get("ended")
        status = _e(e.get("status")) + (f" (ended at height {_e(ended.get('height'))})" if isinstance(ended, dict) else "")
        rows.append(f"<tr><td>{_e(e.get('id'))}</td><td>{_e(e.get('type'))}</td><td>{who}</td><td>{_e(reg.get('day'))} (height {_e(reg.get('height'))})</td><td>{status}</td></tr>")
    return "".join(rows)


def _table(title: str, entries: list[dict]) -> str:
    return (f"<h3>{_e(title)}</h3><table><tr><th>Entry</th><th>Type</th><th>Holders / parties</th><th>Registered</th><th>Status</th></tr>"
            f"{_entry_rows(entries)}</table>")


def _sheet_html(c: dict) -> str:
    ident = facts.identification(c)
    ident_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in sorted(ident.items()))
    return (
        f"<h2>Section 1. Identification characteristics</h2><table><tr><th>cadastral number</th><td>{_e(c.get('cadastral_number'))}</td></tr>"
        f"<tr><th>type</th><td>{_e(c.get('type'))}</td></tr><tr><th>status</th><td>{_e(c.get('status'))}</td></tr>{ident_rows}</table>"
        f"<h2>Section 2. Rights</h2>{_table('Rights', facts.rights(c))}"
        f"<h2>Section 3. Encumbrances</h2>{_table('Pledges', (c.get('encumbrances') or {}).get('pledges') or [])}"
        f"{_table('Other encumbrances', (c.get('encumbrances') or {}).get('other') or [])}"
        f"<h2>Section 4. Legal claims and transactions creating no right</h2>{_table('Legal claims', facts.claims(c))}{_table('Notes', facts.notes(c))}"
        f"<h2>History of entries</h2>{_table('All entries, ended ones included', facts.history(c))}"
    )


def _certificate_html(c: dict) -> str:
    verdict = "ENCUMBERED" if c.get("encumbered") else "NO ENCUMBRANCES REGISTERED"
    parts = [f"<p class='verdict'>{verdict}</p>"]
    for name in ("pledges", "arrests", "other_encumbrances", "claims"):
        items = c.get(name) or []
        lis = "".join(f"<li>{_e(json.dumps(i, ensure_ascii=False, sort_keys=True))}</li>" for i in items) or "<li>none</li>"
        parts.append(f"<h3>{_e(name.replace('_', ' '))}</h3><ul>{lis}</ul>")
    return "".join(parts)


def render(doc: dict) -> str:
    c = doc["content"]
    title = "Extract from the registration sheet" if doc["kind"] == "sheet" else "Certificate of encumbrances"
    body = _sheet_html(c) if doc["kind"] == "sheet" else _certificate_html(c)
    signed = ", ".join(_e(v["name"]) for v in doc["validators"])
    embedded = json.dumps(doc, sort_keys=True, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)} {_e(doc['cadastral_number'])}</title>
<style>body{{font-family:serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse;width:100%;margin-bottom:1em}}
td,th{{border:1px solid #888;padding:.25em .5em;text-align:left;vertical-align:top}}.none{{color:#777}}.verdict{{font-size:1.4em;font-weight:bold}}
.cert{{font-size:.85em;word-break:break-all}}@media print{{.noprint{{display:none}}}}</style></head>
<body><h1>{_e(title)}</h1>
<p>Object <b>{_e(doc['cadastral_number'])}</b>, as registered in the legal cadastre at block height {_e(doc['height'])}
(chain {_e(doc['chain_id'])}). Issued by node {_e(doc['issued']['node'])} on {_e(_when(doc['issued']['time_ms']))}.</p>
{body}
<h2>Certification</h2>
<p class="cert">This extract is certified by the consortium's validators ({signed}): the records above are proven against the state root
of block {_e(doc['height'])}, whose header is signed by a commit certificate of more than two thirds of the validators (Art 34.1-1).
Verify the JSON document with <code>tamga extract verify FILE.json --ca CA.pem</code>; this page is its rendering.</p>
<p class="cert">Block header: {_e(doc['block']['header'])}</p>
<script type="application/json" id="tamga-extract">{embedded}</script>
</body></html>
"""
