"""Radical code points → the ideographs they stand for (一, 行, 长 …).

Chromium and some WPS exports print common characters with glyphs mapped to the Kangxi Radicals
block (U+2F00–U+2FDF: ⼀ ⾏ ⽌) or the CJK Radicals Supplement (U+2E80–U+2EFF: ⻓ ⻔ ⻅); text
extraction then returns those code points, and `⼀、本年新收…` no longer matches its label. Kangxi
radicals have compatibility decompositions (NFKC maps each to its ideograph); the supplement has
none, so its radicals that print a whole character are mapped by the table below. Only these two
blocks are touched: NFKC on whole text would also turn ① into 1 and full-width forms into ASCII.
"""

from __future__ import annotations

import re
import unicodedata

#: CJK Radicals Supplement code points that print a complete character, and that character.
_SUPPLEMENT = dict(
    zip(
        "⺁⺇⺊⺌⺎⺏⺒⺓⺔⺕⺗⺜⺝⺞⺟⺠⺧⺩⺪⺬⺮⺷⺻⺼⺽⻁⻄⻅⻆⻉⻊⻋⻑⻓⻔⻗⻘⻙⻚⻛⻜⻝⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
        "厂几卜小兀尢巳幺彑彐心日月歺母民牛王疋示竹羊聿月臼虎西见角贝足车長长门雨青韦页风飞食马骨鬼鱼鸟卤麦黄黾齐齿龙龟",
        strict=True,
    )
)
_RADICAL = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")


def _ideograph(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SUPPLEMENT:
        return _SUPPLEMENT[char]
    return unicodedata.normalize("NFKC", char)  # Kangxi radicals; unmapped supplement ones stay


def ideographs(text: str) -> str:
    """`text` with radical code points replaced by the ideographs they print."""
    return _RADICAL.sub(_ideograph, text) if _RADICAL.search(text) else text
