"""Language names and codes (ISO 639-1/-2/-3, English names) to Navigator's language codes."""

from __future__ import annotations

import re
from functools import cache

#: Names directories use that ISO 639-3 spells differently (lower case -> ISO 639-3 code).
ALIASES = {
    "haitian creole": "hat", "creole (haitian)": "hat", "kreyol": "hat", "kreyòl": "hat",
    "asl": "ase", "sign language": "ase", "sign language (asl)": "ase",
    "american sign language (asl)": "ase", "mandarin": "cmn", "mandarin chinese": "cmn",
    "cantonese": "yue", "farsi": "fas", "persian (farsi)": "fas", "tagalog (filipino)": "tgl",
    "filipino": "fil", "burmese": "mya", "kurdish": "kur", "pashto": "pus", "pushto": "pus",
    "punjabi": "pan", "panjabi": "pan", "greek": "ell", "modern greek": "ell",
    "swahili": "swa", "kiswahili": "swa", "nepali": "nep", "malay": "msa", "oromo": "orm",
    "afaan oromo": "orm", "dari": "prs", "hmong": "hmn", "chuukese": "chk",
    "marshallese": "mah", "cape verdean creole": "kea", "cape verdean": "kea",
    "brazilian portuguese": "por", "portuguese (brazil)": "por", "sudanese arabic": "apd",
    "cherokee": "chr", "navajo": "nav", "navaho": "nav", "albanian": "sqi", "tigrigna": "tir",
    "bosnian/croatian/serbian": "hbs", "serbo-croatian": "hbs", "chinese (mandarin)": "cmn",
    "chinese (cantonese)": "yue", "chinese mandarin": "cmn", "chinese cantonese": "yue",
}
_SPLIT = re.compile(r"\s*(?:[,;/|]|\band\b|&)\s*", re.IGNORECASE)


def _code(language: object) -> str:
    # ISO 639-1 when the language has one (what Navigator's records and menus use), else 639-3.
    return str(getattr(language, "alpha_2", None) or language.alpha_3)  # type: ignore[attr-defined]


@cache
def language_code(text: str) -> str | None:
    """Return Navigator's code for a language name or ISO 639 code, or None if unknown.

    Accepted: ISO 639-1 (``"ht"``), 639-2/B and 639-3 (``"heb"``, ``"ase"``), BCP 47 tags
    whose first part is one of those (``"es-MX"``, ``"zh_Hant"``), English names from
    ISO 639-3 (``"Hebrew"``, ``"American Sign Language"``), and common directory spellings
    (``"Haitian Creole"``, ``"Farsi"``, ``"ASL"``, ``"Mandarin"``). The code is ISO 639-1
    where the language has one, else ISO 639-3.
    """
    import pycountry

    raw = " ".join(str(text).split()).strip().strip(".").lower()
    if not raw:
        return None
    candidates = [raw]
    if re.fullmatch(r"[a-z]{2,3}[-_][a-z0-9-_]+", raw):
        candidates.append(re.split(r"[-_]", raw)[0])
    for name in candidates:
        if name in ALIASES:
            name = ALIASES[name]
        lang = None
        if re.fullmatch(r"[a-z]{2}", name):
            lang = pycountry.languages.get(alpha_2=name)
        elif re.fullmatch(r"[a-z]{3}", name):
            lang = (pycountry.languages.get(alpha_3=name)
                    or pycountry.languages.get(bibliographic=name))
        if lang is None and len(name) > 3:
            try:
                lang = pycountry.languages.lookup(name)
            except LookupError:
                lang = None
        if lang is not None:
            return _code(lang)
    return None


def language_codes(values: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the codes of every language in ``values`` and the texts that name none.

    ``values`` is one text (``"en, es"``, ``"English; Haitian Creole"``) or a list of texts;
    order is kept and duplicates are dropped.
    """
    texts = [values] if isinstance(values, str) else list(values or ())  # type: ignore[call-overload]
    codes: list[str] = []
    unknown: list[str] = []
    for text in texts:
        whole = language_code(str(text))
        parts = [str(text)] if whole else [p for p in _SPLIT.split(str(text)) if p.strip()]
        for part in parts:
            code = whole or language_code(part)
            if code is None:
                unknown.append(part.strip())
            elif code not in codes:
                codes.append(code)
    return tuple(codes), tuple(unknown)


def language_name(code: str) -> str:
    """Return the English name of a Navigator language code (the code itself if unknown)."""
    import pycountry

    lang = (pycountry.languages.get(alpha_2=code) if len(code) == 2
            else pycountry.languages.get(alpha_3=code))
    return str(lang.name) if lang is not None else code
