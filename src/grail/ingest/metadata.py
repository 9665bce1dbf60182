"""Document metadata at ingest: issuer, form type and fiscal period, read from the document.

Filings say who they are on their cover page ("FORM 10-K", "(Exact name of
registrant as specified in its charter)", "For the fiscal year ended ...");
earnings releases say it in their first lines ("Acme Inc. (NYSE: ACME) today
announced ... results"). These fields become filterable metadata and the
document's title, which is part of every chunk's embedded context. The
decision: read the document first, use the file name only as a fallback, and
let a sidecar ``<file>.meta.json`` override anything; no list of companies.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from grail.records import Document
from grail.text_units import MONTHS

_FORM = re.compile(r"\bFORM\s+(10-K|10-Q|8-K|20-F|40-F|6-K|10-KT|S-1|DEF\s*14A)\b")
_FORM_NAME = re.compile(r"(?i)(?:^|[_\-\s])(10-?K|10-?Q|8-?K|20-?F|earnings)(?:$|[_\-\s.])")
_REGISTRANT = re.compile(r"(?im)^(.{2,200})\n\s*\(exact name of (?:the )?registrant")
_FILE_NUMBER_NEXT = re.compile(r"(?im)commission file number[^\n]*\n([A-Z0-9][A-Z0-9&.,' \-]{1,60})$")
_TICKER = re.compile(r"([A-Z][\w&.,' ]{1,60}?)\s*\((?:NYSE|NASDAQ|Nasdaq|NYSE American)\s*:\s*[A-Z.]+\)")
_TITLE_FORM_FOR = re.compile(r"(?i)form\s+[\w-]+\s+for\s+(.+?)\s+filed")
_DATE = r"([A-Z][a-z]+\.?\s+\d{1,2}\s*,\s*(\d{4}))"
_FISCAL_YEAR = re.compile(r"(?i)for\s+the\s+(?:fiscal\s+)?year\s+ended\D{0,60}?" + _DATE)
_QUARTER = re.compile(r"(?i)for\s+the\s+quarterly\s+period\s+ended\D{0,60}?" + _DATE)
_REPORT_DATE = re.compile(r"(?i)date of report[^:]*:\s*([A-Z][a-z]+\.?\s+\d{1,2}\s*,\s*(\d{4}))")
_RELEASE_PERIOD = re.compile(
    r"(?i)\b(first|second|third|fourth)[-\s]quarter(?:\s+(?:and\s+full[-\s]year\s+)?(?:fiscal\s+)?(\d{4}))?"
    r"|\b(\d{4})\s+(first|second|third|fourth)[-\s]quarter")
_RESULTS = re.compile(r"(?i)(?:announce[sd]?|report[sd]?)\b.{0,80}\bresults|for immediate release")
_TICKER_COVER = re.compile(
    r"(?m)^[^\n]*?(?:Common [Ss]tock|Ordinary [Ss]hares|Common [Ss]hares)[^\n]*?\s([A-Z]{1,5}(?:\.[A-Z])?)\s+"
    r"(?:The\s+)?(?:New York|NASDAQ|Nasdaq|NYSE)")
_TICKER_INLINE = re.compile(r"\((?:NYSE|NASDAQ|Nasdaq)\s*:\s*([A-Z.]{1,6})\)")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)")
_ITEM = re.compile(r"(?i)\bItem\s+(\d\.\d{2})\b")
_QUARTER_NUM = {"first": 1, "second": 2, "third": 3, "fourth": 4}


_DAY = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})\s*,\s*(\d{4})")


def parse_date(text: object) -> tuple[int, int, int] | None:
    """(year, month, day) of "July 29, 2023" (or "MAY 29, 2022"); None when there is no such date."""
    m = _DAY.search(str(text or ""))
    if not m or m.group(1).lower() not in MONTHS:
        return None
    return int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2))


def fiscal_year_named(year: int, month: int, day: int) -> int:
    """The fiscal year a year ending on this day is named after: its calendar year, except a
    52/53-week year ending in the first days of January, named after the year before."""
    return year - 1 if month == 1 and day <= 7 else year


# corporate words a cover page capitalises: "BEST BUY CO., INC." is "Best Buy Co., Inc"
_NAME_WORDS = {"INC": "Inc", "CO": "Co", "CORP": "Corp", "LTD": "Ltd", "THE": "The", "AND": "and", "OF": "of",
               "FOR": "for", "DE": "de"}
_VOWEL = set("AEIOU")


def _name_word(word: str) -> str:
    """One word of an all-capitals company name in the case its company writes it: "HEALTH" -> "Health",
    "BUY" -> "Buy"; a short word that does not read as a word stays an acronym ("CVS", "AMD", "3M")."""
    letters = re.sub(r"[^A-Z]", "", word)
    if letters in _NAME_WORDS:
        return word.replace(letters, _NAME_WORDS[letters], 1)
    pronounceable = len(letters) == 3 and letters[0] not in _VOWEL and letters[1] in _VOWEL and letters[2] not in _VOWEL
    if len(letters) > 3 or pronounceable:
        return "-".join(part[:1] + part[1:].lower() for part in word.split("-"))  # "COCA-COLA", "AMAZON.COM"
    return word


def _clean_company(name: str) -> str:
    name = " ".join(re.sub(r"_{2,}", " ", name).split()).strip(" ,.-_")
    if name.isupper() and len(name) > 4:  # "CVS HEALTH CORPORATION" -> "CVS Health Corporation"
        name = " ".join(_name_word(w) for w in name.split())
    return name


def extract_filing_metadata(doc: Document) -> dict[str, Any]:
    """What the first pages say about issuer, form and period; {} for non-filings."""
    head = "\n".join(p.text for p in doc.pages[:3])
    first = doc.pages[0].text if doc.pages else ""
    meta: dict[str, Any] = {}
    form_m = _FORM.search(head[:6000])
    if form_m:
        meta["form_type"] = form_m.group(1).replace(" ", "")
    elif _RESULTS.search(first[:3000]):
        meta["form_type"] = "earnings release"

    company = None
    for pattern in (_REGISTRANT, _FILE_NUMBER_NEXT):
        m = pattern.search(head[:8000])
        if m and not re.search(r"(?i)securities|commission|state of|washington", m.group(1)):
            company = m.group(1)
            break
    if company is None:
        m = _TICKER.search(first[:4000])
        if m:
            company = re.sub(r"^.*?\)\s*[-–—]+\s*", "", m.group(1))
    if company is None:
        m = _TITLE_FORM_FOR.search(str(doc.metadata.get("pdf_title", "")))
        if m:
            company = m.group(1)
    if company:
        meta["company"] = _clean_company(company)
    if meta.get("form_type") == "8-K":  # what the report is about: 2.02 = results of operations
        meta["items"] = sorted(set(_ITEM.findall(head[:20000])))
    if m := (_TICKER_COVER.search(head[:12000]) or _TICKER_INLINE.search(head[:12000])):
        meta["ticker"] = m.group(1)

    if (m := _FISCAL_YEAR.search(head)) and meta.get("form_type") != "10-Q":
        meta["period_end"] = " ".join(m.group(1).split())
        end = parse_date(meta["period_end"])
        meta["fiscal_year"] = fiscal_year_named(*end) if end else int(m.group(2))
    elif m := _QUARTER.search(head):
        meta["period_end"] = " ".join(m.group(1).split())
        meta["fiscal_year"] = int(m.group(2))
    elif m := _REPORT_DATE.search(head):
        meta["report_date"] = " ".join(m.group(1).split())
        meta["fiscal_year"] = int(m.group(2))
    elif meta.get("form_type") == "earnings release" and (m := _RELEASE_PERIOD.search(first[:3000])):
        word = (m.group(1) or m.group(4)).lower()
        year = m.group(2) or m.group(3)
        meta["fiscal_quarter"] = _QUARTER_NUM[word]
        if year:
            meta["fiscal_year"] = int(year)
    return meta


def _from_file_name(path: str) -> dict[str, Any]:
    stem = Path(path).stem
    meta: dict[str, Any] = {}
    if m := _FORM_NAME.search(stem):
        tag = m.group(1).upper().replace("-", "")
        meta["form_type"] = {"10K": "10-K", "10Q": "10-Q", "8K": "8-K", "20F": "20-F"}.get(tag, "earnings release")
    if m := _YEAR.search(stem):
        meta["fiscal_year"] = int(m.group(1))
    if m := re.match(r"([A-Za-z][A-Za-z&\-]+(?:[_ ][A-Za-z&\-]+)*?)[_ -]+(?:\d|10|8-?K)", stem):
        meta["company"] = m.group(1).replace("_", " ").title()
    return meta


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """``<file>.meta.json`` beside a file: user overrides (company, fiscal_year, form_type, title, ...)."""
    side = Path(str(path) + ".meta.json")
    if not side.exists():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{side}: not valid JSON ({exc}); fix or remove the sidecar") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{side}: expected a JSON object of metadata fields")
    return data


def describe(meta: dict[str, Any]) -> str:
    """A short human title: 'Amcor Plc 10-Q, quarter ended December 31, 2022'."""
    parts = [meta.get("company", ""), meta.get("form_type", "")]
    if "period_end" in meta:
        kind = "quarter" if meta.get("form_type") == "10-Q" else "fiscal year"
        tail = f"{kind} ended {meta['period_end']}"
    elif "fiscal_quarter" in meta:
        tail = f"Q{meta['fiscal_quarter']} {meta.get('fiscal_year', '')}".strip()
    elif "report_date" in meta:
        tail = f"dated {meta['report_date']}"
    elif "fiscal_year" in meta:
        tail = f"FY{meta['fiscal_year']}"
    else:
        tail = ""
    head = " ".join(p for p in parts if p)
    return f"{head}, {tail}" if head and tail else head or tail


def enrich(doc: Document, overrides: dict[str, Any] | None = None) -> Document:
    """The document with filing metadata merged in and a descriptive title where it is a filing."""
    found = extract_filing_metadata(doc)
    fallback = _from_file_name(doc.path)
    meta = dict(doc.metadata)
    if found.get("company") or found.get("form_type"):
        for key, value in fallback.items():
            found.setdefault(key, value)
    meta.update(found)
    meta.update(overrides or {})
    title = str((overrides or {}).get("title") or "")
    if not title and (meta.get("company") or meta.get("form_type") in ("10-K", "10-Q", "8-K", "20-F")):
        title = describe(meta)
    return replace(doc, metadata=meta, title=title or doc.title)
