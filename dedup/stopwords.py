"""Function words of Arabic and English news, in normalized form (profile ``news-v1``).

They carry no facts, so they are left out of the sketch shingles: two unrelated sentences
share many of them, and a sketch built on them would make every pair a candidate. They still
count in verification, with the low weight their frequency gives them.
"""
from __future__ import annotations

from .normalize import normalize

_ENGLISH = """
a about above after again against all also although am an and any are as at be because been
before being below between both but by can could did do does doing down during each either
few for from further had has have having he her here hers herself him himself his how however
i if in into is it its itself just may me might more most must my myself no nor not now of off
on once only or other our ours ourselves out over own said same says she should since so some
such than that the their theirs them themselves then there these they this those through to
too under until up upon very was we were what when where whether which while who whom whose
why will with would yet you your yours yourself yourselves mr mrs ms one two also its
"""

_ARABIC = """
في من على إلى عن مع أن إن أو ثم قد لقد لم لن ما لا هل كان كانت يكون تكون كانوا هذا هذه ذلك تلك هؤلاء
الذي التي الذين اللذين اللتين اللاتي هو هي هم هما نحن أنا أنت أنتم كل بعض غير بين بعد قبل عند عندما
حتى حيث كما لكن لكنه أي أيضا إذا إذ منذ خلال حول ضد دون لدى نحو فوق تحت أمام وراء عبر ضمن وفق وفقا
به بها بهم له لها لهم منه منها منهم عليه عليها عليهم فيه فيها فيهم إليه إليها عنه عنها و ف ب ل ك
وفي ومن وعلى وإلى وعن ومع وأن وإن وقد ولم ولا وما وهو وهي وكان وكانت وهذا وهذه التى الى انه أنه إنه
قال وقال قالت وقالت يقول أضاف وأضاف تم وتم يتم ذكر وذكر أكد وأكد أشار وأشار اليوم أمس الذى سوف ليس
"""


def _normalized_set(words: str) -> frozenset[str]:
    return frozenset(w for w in (normalize(x) for x in words.split()) if w)


STOPWORDS: frozenset[str] = _normalized_set(_ENGLISH) | _normalized_set(_ARABIC)
