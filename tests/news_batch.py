"""A generated day of news for the HTML report tests: English and Arabic articles of made-up
words (seeded, so every run builds the same batch), into which sentences of earlier articles
and of the same article are copied, some changed (a word or two replaced, a figure changed, a
clause added, the case changed), so that the engine finds every kind and scope of repeat.

Nothing here is taken from real news or from ../shared: the text is generated.
"""
from __future__ import annotations

import random

EN_ONSETS = ("b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "cl", "dr", "st", "tr")
EN_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
EN_CODAS = ("", "n", "r", "s", "t", "l", "nd", "st", "m")
AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def english_word(rng: random.Random) -> str:
    return "".join(rng.choice(EN_ONSETS) + rng.choice(EN_VOWELS) for _ in range(rng.randint(1, 3))) + rng.choice(EN_CODAS)


def arabic_word(rng: random.Random) -> str:
    return "".join(rng.choice(AR_LETTERS) for _ in range(rng.randint(3, 7)))


def sentence(rng: random.Random, arabic: bool) -> str:
    """Ten to sixteen made-up words (one of them, at times, a figure), capitalised, with a full stop."""
    words = [arabic_word(rng) if arabic else english_word(rng) for _ in range(rng.randint(10, 16))]
    if rng.random() < 0.4:
        words[rng.randrange(2, len(words))] = str(rng.randint(12, 980))
    text = " ".join(words)
    return (text if arabic else text[0].upper() + text[1:]) + "."


def changed(original: str, how: str, rng: random.Random, arabic: bool) -> str:
    """`original` copied as `how` says: "exact", "case", "words" (two replaced), "figure" (a
    number changed, else a word) or "clause" (a clause added at the end)."""
    if how == "exact":
        return original
    if how == "case":
        return original.upper() if not arabic else original.replace(".", "!")
    words = original[:-1].split()
    figures = [i for i, w in enumerate(words) if w.isdigit()]
    if how == "figure" and figures:
        i = figures[0]
        words[i] = str(int(words[i]) + rng.randint(3, 40))
    elif how == "clause":
        words += [arabic_word(rng) if arabic else english_word(rng) for _ in range(rng.randint(6, 9))]
    else:
        for i in rng.sample(range(1, len(words)), 2):
            words[i] = arabic_word(rng) if arabic else english_word(rng)
    return " ".join(words) + original[-1]


def news_batch(documents: int = 500, seed: int = 15) -> list[tuple[str, str]]:
    """`documents` articles (about a quarter in Arabic) as (id, text) pairs, most of them
    repeating a sentence or two of an earlier article of the same language or of themselves."""
    rng = random.Random(seed)
    articles: list[tuple[str, str]] = []
    written: dict[bool, list[str]] = {False: [], True: []}  # earlier sentences by language
    hows = ("exact", "exact", "case", "words", "words", "figure", "clause")
    for number in range(1, documents + 1):
        arabic = number % 4 == 0
        own = [sentence(rng, arabic) for _ in range(rng.randint(6, 12))]
        pool = written[arabic]
        for _ in range(rng.choice((0, 1, 2, 2, 3)) if pool else 0):
            original = pool.pop(rng.randrange(len(pool)))  # each earlier sentence copied once at most
            own.insert(rng.randrange(len(own) + 1), changed(original, rng.choice(hows), rng, arabic))
        if rng.random() < 0.35:  # a sentence of its own repeated further down
            i = rng.randrange(len(own) // 2)
            own.append(changed(own[i], rng.choice(hows), rng, arabic))
        pool.extend(own)
        paragraphs = [" ".join(own[i:i + 3]) for i in range(0, len(own), 3)]
        folder = "ar" if arabic else "en"
        articles.append((f"news/{folder}/{number:04d}.txt", "\n\n".join(paragraphs) + "\n"))
    return articles


def day_report(location, documents: int = 500, archived: int = 100, seed: int = 15):
    """The report of a day's `documents` articles checked against an archive index at
    `location` (sqlite) of the `archived` articles written before them; (report, sources)."""
    import dedup

    articles = news_batch(archived + documents, seed)
    with dedup.Index.open(location) as index:
        index.add_many(articles[:archived])
        today = articles[archived:]
        report = dedup.Detector().check_many(today, index=index)
    return report, dict(today)
