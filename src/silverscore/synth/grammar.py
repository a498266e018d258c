"""Grammar of the synthetic language: meanings, their sign order and their English renderings.

A sentence starts as a *frame*, a small dict of the meaning's slots (who, what, when, where, how
many, negated or not). From the frame come

* the **gloss sequence** in sign order: time first, then topic, then comment (``TOMORROW NORTH
  RAIN STRONG NOT``), so English and sign word order differ; function words have no sign;
* **English renderings**: several structurally different sentences (time first or last, passive,
  cleft, converse verbs, synonyms, digits or number words) that all map to the same glosses.

Working on frames rather than on strings is what makes the ground truth exact: a hard negative or
a simulated system changes a slot, and both the signing and the English it "actually signs" are
regenerated from the changed frame.

Directional verbs establish both referents at fixed loci, in alphabetical order of their glosses
(the first at locus ``a`` on the dominant side, the second at ``b``), and the verb moves from the
agent's locus to the recipient's. "Mary gives John a book" and "John gives Mary a book" therefore
have the same glosses except the verb's direction (``GIVE:b>a`` vs ``GIVE:a>b``).
"""
from __future__ import annotations

import copy
import json
import random

from . import english as en
from .lexicon import DAYS, MONTHS, NUMBER_WORDS, TENS_WORDS, VOCABULARY

NEGATION_STYLES = ("both", "sign", "headshake")
KINDS = ("weather", "activity", "transfer", "quantity", "price", "appointment", "social", "compound")
#: Sampling weights of the frame kinds: a domain with heavy shared vocabulary (weather, daily life).
KIND_WEIGHTS = (0.32, 0.2, 0.15, 0.05, 0.05, 0.08, 0.05, 0.10)

# Complement class of each activity verb: which categories can follow it.
VERB_COMPLEMENTS: dict[str, list[str] | None] = {
    "GO": ["place"], "EAT": ["food"], "DRINK": ["drink"], "BUY": ["object", "food"],
    "COOK": ["food"], "READ": ["readable"], "WATCH": ["watchable"], "PLAY": ["playable"],
    "LIKE": ["food", "drink", "entertainment"], "WANT": ["object", "food", "drink"],
    "NEED": ["object"], "WORK": ["workplace", None], "SLEEP": [None], "SWIM": [None],
    "RUN": [None], "WALK": [None, "place"], "DRIVE": ["place"], "STUDY": [None],
    "CLEAN": ["washable"], "WASH": ["washable"], "DANCE": [None], "SING": [None],
    "LOSE": ["object"], "FIND": ["object"], "FORGET": ["object"], "ORDER": ["food", "drink"],
    "FIX": ["fixable"], "PAINT": ["fixable"],
}
ACTIVITY_VERBS = list(VERB_COMPLEMENTS)
COMPLEMENT_CLASSES = {
    "place": [p for p in VOCABULARY["place"]],
    "food": VOCABULARY["food"],
    "drink": VOCABULARY["drink"],
    "object": VOCABULARY["object"],
    "entertainment": VOCABULARY["entertainment"],
    "readable": ["BOOK", "LETTER", "NEWSPAPER", "MAP", "CARD"],
    "watchable": ["TELEVISION", "FILM", "FOOTBALL", "TENNIS", "NEWS", "BASKETBALL"],
    "playable": ["FOOTBALL", "TENNIS", "CHESS", "PIANO", "GUITAR", "BASKETBALL"],
    "workplace": ["HOSPITAL", "SCHOOL", "BANK", "OFFICE", "STORE", "LIBRARY", "MUSEUM", "HOTEL",
                  "AIRPORT", "RESTAURANT", "UNIVERSITY", "MARKET"],
    "washable": ["CAR", "BICYCLE", "CUP", "COAT", "HAT", "BAG"],
    "fixable": ["CAR", "BICYCLE", "PHONE", "COMPUTER", "CLOCK", "UMBRELLA"],
}
MODIFIABLE = set(VOCABULARY["object"])  # nouns that take a colour or size adjective
PERSONS = VOCABULARY["name"] + VOCABULARY["kin"]
OBJECT_VERBS = VOCABULARY["dir_verb_obj"]
PLAIN_DIR_VERBS = VOCABULARY["dir_verb"]
COUNTABLE = VOCABULARY["animal"] + [g for g in VOCABULARY["object"] if g not in ("NEWSPAPER",)]
PRICED = ["TICKET", "BOOK", "COAT", "HAT", "BAG", "UMBRELLA", "MAP", "PHONE", "BICYCLE", "PEN",
          "CLOCK", "CAKE", "PIZZA", "SANDWICH", "WINE", "CHEESE"]
WEATHER_ADJ_OK = {adj: set(table) for adj, table in en.WEATHER_ADJ.items()}


# --- numbers ------------------------------------------------------------------------------------

def number_glosses(n: int) -> list[str]:
    """Sign glosses of an integer in -99..99: digits and teens are one sign, 21..99 two."""
    if n < 0:
        return ["MINUS"] + number_glosses(-n)
    if n < 20:
        return [NUMBER_WORDS[n]]
    tens, units = divmod(n, 10)
    return [TENS_WORDS[tens - 2]] + ([NUMBER_WORDS[units]] if units else [])


# --- sampling -------------------------------------------------------------------------------------
# Choices follow a Zipf law over each list's order: a few words (TOMORROW, RAIN, NORTH, MARY) are
# frequent, as in real domains, so random pairs of sentences often share signs and a metric cannot
# tell right from wrong by spotting a single sign.
ZIPF_EXPONENT = 1.35
_ZIPF_WEIGHTS: dict[tuple, list[float]] = {}


def _zipf(rng: random.Random, options: list, exponent: float = ZIPF_EXPONENT):
    key = (len(options), exponent)
    if key not in _ZIPF_WEIGHTS:
        _ZIPF_WEIGHTS[key] = [1.0 / (k + 1) ** exponent for k in range(len(options))]
    return rng.choices(options, weights=_ZIPF_WEIGHTS[key])[0]


def _time(rng: random.Random, allow_days: bool = True) -> list[str]:
    r = rng.random()
    if allow_days and r < 0.15:
        day = _zipf(rng, DAYS)
        return [day, rng.choice(VOCABULARY["part_of_day"][:3])] if rng.random() < 0.3 else [day]
    word = _zipf(rng, VOCABULARY["time"], 1.7)
    if word in en.TIME_WITH_PART and rng.random() < 0.35:
        return [word, rng.choice(list(en.TIME_WITH_PART[word]))]
    return [word]


def _neg(rng: random.Random, p: float) -> tuple[bool, str]:
    negated = rng.random() < p
    style = rng.choices(NEGATION_STYLES, weights=(0.5, 0.25, 0.25))[0]
    return negated, style


def _weather(rng: random.Random, with_time: bool = True, region_required: bool = False) -> dict:
    frame = {"kind": "weather", "time": _time(rng) if with_time and rng.random() < 0.92 else [],
             "region": _zipf(rng, VOCABULARY["region"], 1.5) if region_required or rng.random() < 0.85 else None,
             "phen": None, "wadj": None, "tadj": None, "temp": None}
    r = rng.random()
    if r < 0.75:
        frame["phen"] = _zipf(rng, VOCABULARY["weather"], 1.4)
        adjs = [a for a, ok in WEATHER_ADJ_OK.items() if frame["phen"] in ok]
        if adjs and rng.random() < 0.4:
            frame["wadj"] = rng.choice(adjs)
        if rng.random() < 0.2:
            frame["tadj"] = _zipf(rng, VOCABULARY["temp_adj"])
    else:
        frame["tadj"] = _zipf(rng, VOCABULARY["temp_adj"])
    if rng.random() < (0.3 if frame["phen"] else 0.5):
        cold = frame["phen"] in ("SNOW", "FROST", "ICE", "HAIL") or frame["tadj"] in ("COLD", "FREEZING", "COOL")
        hot = frame["tadj"] in ("WARM", "HOT", "HUMID", "MILD")
        frame["temp"] = rng.randint(-12, 6) if cold else rng.randint(16, 38) if hot else rng.randint(-5, 30)
    frame["neg"], frame["neg_style"] = _neg(rng, 0.25 if frame["phen"] else 0.0)
    return frame


def _complement(verb: str, rng: random.Random) -> str | None:
    cls = rng.choice(VERB_COMPLEMENTS[verb])
    return None if cls is None else _zipf(rng, COMPLEMENT_CLASSES[cls])


def _activity(rng: random.Random) -> dict:
    verb = _zipf(rng, ACTIVITY_VERBS)
    comp = _complement(verb, rng)
    mod = None
    if comp in MODIFIABLE and rng.random() < 0.3:
        mod = rng.choice(VOCABULARY["color"] + VOCABULARY["object_adj"])
    frame = {"kind": "activity", "time": _time(rng) if rng.random() < 0.9 else [],
             "person": _zipf(rng, PERSONS), "verb": verb, "comp": comp, "mod": mod}
    frame["neg"], frame["neg_style"] = _neg(rng, 0.25)
    return frame


def _transfer(rng: random.Random) -> dict:
    agent = _zipf(rng, PERSONS)
    recipient = agent
    while recipient == agent:
        recipient = _zipf(rng, PERSONS)
    with_object = rng.random() < 0.55
    verb = rng.choice(OBJECT_VERBS if with_object else PLAIN_DIR_VERBS)
    obj = _zipf(rng, VOCABULARY["object"]) if with_object else None
    mod = rng.choice(VOCABULARY["color"] + VOCABULARY["object_adj"]) if obj and rng.random() < 0.25 else None
    frame = {"kind": "transfer", "time": _time(rng) if rng.random() < 0.85 else [],
             "agent": agent, "recipient": recipient, "verb": verb, "obj": obj, "mod": mod}
    frame["neg"], frame["neg_style"] = _neg(rng, 0.2)
    return frame


def _quantity(rng: random.Random) -> dict:
    return {"kind": "quantity", "person": _zipf(rng, PERSONS), "thing": _zipf(rng, COUNTABLE),
            "count": rng.choice([2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 24, 30])}


def _price(rng: random.Random) -> dict:
    return {"kind": "price", "thing": _zipf(rng, PRICED), "count": rng.randint(2, 99),
            "currency": rng.choice(["EURO", "DOLLAR"])}


def _appointment(rng: random.Random) -> dict:
    frame = {"kind": "appointment", "event": _zipf(rng, VOCABULARY["event"]), "day": None,
             "month": None, "hour": None}
    if rng.random() < 0.7:
        frame["day"] = _zipf(rng, DAYS)
        if rng.random() < 0.6:
            frame["hour"] = rng.randint(1, 12)
    else:
        frame["month"] = rng.choice(MONTHS)
    frame["neg"], frame["neg_style"] = _neg(rng, 0.15)
    return frame


def _social(rng: random.Random) -> dict:
    if rng.random() < 0.2:
        return {"kind": "social", "phrase": "my_name", "name": _zipf(rng, VOCABULARY["name"])}
    return {"kind": "social", "phrase": rng.choice(sorted(en.SOCIAL)), "name": None}


def _compound(rng: random.Random) -> dict:
    first = _weather(rng, with_time=True, region_required=True)
    second = _weather(rng, with_time=False, region_required=True)
    while second["region"] == first["region"]:
        second["region"] = _zipf(rng, VOCABULARY["region"], 1.5)
    return {"kind": "compound", "parts": [first, second]}


_SAMPLERS = {"weather": _weather, "activity": _activity, "transfer": _transfer,
             "quantity": _quantity, "price": _price, "appointment": _appointment,
             "social": _social, "compound": _compound}


def sample_frame(rng: random.Random) -> dict:
    """A random meaning frame of the domain (at most 15 signs)."""
    while True:
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        frame = _SAMPLERS[kind](rng)
        if 1 <= len(realize(frame).glosses) <= 15:
            return frame


def meaning_key(frame: dict) -> str:
    """A canonical string of what a frame means (rendering choices such as the negation style
    are left out), used to keep splits disjoint and to detect duplicates."""
    def strip(f: dict) -> dict:
        f = {k: v for k, v in f.items() if k != "neg_style"}
        if "parts" in f:
            f["parts"] = [strip(p) for p in f["parts"]]
        return f
    return json.dumps(strip(frame), sort_keys=True)


# --- sign order ------------------------------------------------------------------------------------

class Realization:
    """Gloss sequence of a frame plus what the renderer needs to know about it.

    ``predicate`` indexes the main predicate (where prosodic intensity acts), ``headshake`` is a
    list of (first, last) gloss-index spans inclusive carrying the negative head shake.
    """

    __slots__ = ("glosses", "predicates", "headshake")

    def __init__(self, glosses: list[str], predicates: list[int], headshake: list[tuple[int, int]]):
        self.glosses = glosses
        self.predicates = predicates
        self.headshake = headshake


def _negate_tail(glosses: list[str], start: int, negated: bool, style: str):
    """Append the NOT sign and/or a head-shake span covering glosses[start:]."""
    if not negated:
        return []
    if style in ("both", "sign"):
        glosses.append("NOT")
    if style in ("both", "headshake"):
        return [(start, len(glosses) - 1)]
    return []


def realize(frame: dict) -> Realization:
    """The frame's gloss sequence in sign order (time, topic, comment)."""
    kind = frame["kind"]
    g: list[str] = []
    preds: list[int] = []
    spans: list[tuple[int, int]] = []
    if kind == "compound":
        for part in frame["parts"]:
            sub = realize(part)
            offset = len(g)
            g += sub.glosses
            preds += [p + offset for p in sub.predicates]
            spans += [(a + offset, b + offset) for a, b in sub.headshake]
        return Realization(g, preds, spans)
    if kind == "weather":
        g += frame["time"]
        if frame["region"]:
            g.append(frame["region"])
        if frame["phen"]:
            start = len(g)
            g.append(frame["phen"])
            preds.append(start)
            if frame["wadj"]:
                g.append(frame["wadj"])
            spans += _negate_tail(g, start, frame["neg"], frame["neg_style"])
        if frame["tadj"]:
            preds.append(len(g))
            g.append(frame["tadj"])
        if frame["temp"] is not None:
            g.append("TEMPERATURE")
            g += number_glosses(frame["temp"])
            g.append("DEGREE")
    elif kind == "activity":
        g += frame["time"]
        g.append(frame["person"])
        if frame["comp"]:
            g.append(frame["comp"])
            if frame["mod"]:
                g.append(frame["mod"])
        start = len(g)
        g.append(frame["verb"])
        preds.append(start)
        spans += _negate_tail(g, start, frame["neg"], frame["neg_style"])
    elif kind == "transfer":
        g += frame["time"]
        first, second = sorted([frame["agent"], frame["recipient"]])
        g += [first, "IX:a", second, "IX:b"]
        if frame["obj"]:
            g.append(frame["obj"])
            if frame["mod"]:
                g.append(frame["mod"])
        src = "a" if frame["agent"] == first else "b"
        dst = "b" if src == "a" else "a"
        start = len(g)
        g.append(f"{frame['verb']}:{src}>{dst}")
        preds.append(start)
        spans += _negate_tail(g, start, frame["neg"], frame["neg_style"])
    elif kind == "quantity":
        g += [frame["person"], frame["thing"]] + number_glosses(frame["count"]) + ["HAVE"]
        preds.append(len(g) - 1)
    elif kind == "price":
        g += [frame["thing"], "COST"] + number_glosses(frame["count"]) + [frame["currency"]]
        preds.append(1)
    elif kind == "appointment":
        if frame["day"]:
            g.append(frame["day"])
        if frame["month"]:
            g.append(frame["month"])
        start = len(g)
        g.append(frame["event"])
        preds.append(start)
        if frame["hour"] is not None:
            g += ["TIME"] + number_glosses(frame["hour"])
        spans += _negate_tail(g, start, frame["neg"], frame["neg_style"])
    elif kind == "social":
        if frame["phrase"] == "my_name":
            g += ["MY", "NAME", frame["name"]]
        else:
            g += en.SOCIAL[frame["phrase"]][0]
        preds.append(len(g) - 1)
    else:  # pragma: no cover
        raise ValueError(f"unknown frame kind {kind}")
    return Realization(g, preds, spans)


# --- English ---------------------------------------------------------------------------------------

def _tense(time: list[str], default: str) -> str:
    if not time:
        return default
    if time[0] in DAYS:
        return "future"
    return en.TIME_TENSE[time[0]]


def _time_phrase(time: list[str], rng: random.Random) -> str:
    if not time:
        return ""
    head = time[0]
    if head in DAYS:
        day = head.capitalize()
        if len(time) == 2:
            return rng.choice([f"on {day} {en.PART_OF_DAY[time[1]]}", f"{day} {en.PART_OF_DAY[time[1]]}"])
        return rng.choice([f"on {day}", day])
    if len(time) == 2:
        return rng.choice(en.TIME_WITH_PART[head][time[1]])
    return rng.choice(en.TIME[head])


def _place_time(clause: str, time: str, rng: random.Random, comma: bool = True) -> str:
    """Put a time phrase at the start or the end of a clause."""
    if not time:
        return clause
    if rng.random() < 0.5:
        return f"{time}{',' if comma and rng.random() < 0.5 else ''} {clause}"
    return f"{clause} {time}"


def _vp(forms: tuple, tense: str, negated: bool, rng: random.Random, passive: bool = False) -> str:
    base, s3, past, ing, pp = forms
    if passive:
        table = {
            ("future", False): ["will be {pp}"], ("future", True): ["will not be {pp}", "won't be {pp}"],
            ("past", False): ["was {pp}"], ("past", True): ["was not {pp}", "wasn't {pp}"],
            ("progressive", False): ["is being {pp}"], ("progressive", True): ["is not being {pp}"],
            ("present", False): ["is {pp}"], ("present", True): ["is not {pp}", "isn't {pp}"],
        }
    else:
        table = {
            ("future", False): ["will {base}", "is going to {base}"],
            ("future", True): ["will not {base}", "won't {base}", "is not going to {base}"],
            ("past", False): ["{past}"], ("past", True): ["did not {base}", "didn't {base}"],
            ("progressive", False): ["is {ing}"], ("progressive", True): ["is not {ing}", "isn't {ing}"],
            ("present", False): ["{s3}"], ("present", True): ["does not {base}", "doesn't {base}"],
        }
    return rng.choice(table[(tense, negated)]).format(base=base, s3=s3, past=past, ing=ing, pp=pp)


def _be(tense: str, negated: bool, rng: random.Random) -> str:
    table = {("future", False): ["will be"], ("future", True): ["will not be", "won't be"],
             ("past", False): ["was"], ("past", True): ["was not", "wasn't"],
             ("progressive", False): ["is"], ("progressive", True): ["is not", "isn't"],
             ("present", False): ["is"], ("present", True): ["is not", "isn't"]}
    return rng.choice(table[(tense, negated)])


def _noun_phrase(gloss: str, mod: str | None, rng: random.Random, definite: bool | None = None) -> str:
    singular, plural = rng.choice(en.NOUN[gloss])
    adjective = f"{rng.choice(en.ADJECTIVE[mod])} " if mod else ""
    if plural is None:  # mass noun
        if gloss in en.DEFINITE:
            return f"the {adjective}{singular}"
        return rng.choice([f"{adjective}{singular}", f"some {adjective}{singular}"]) if not adjective else f"{adjective}{singular}"
    if definite is None:
        definite = rng.random() < 0.4
    phrase = f"{adjective}{singular}"
    return f"the {phrase}" if definite else f"{en.article(phrase)} {phrase}"


def _person(gloss: str, rng: random.Random) -> str:
    return rng.choice(en.PERSON[gloss])


def _weather_english(frame: dict, rng: random.Random, tense: str | None = None, with_time: bool = True) -> str:
    tense = tense or _tense(frame["time"], "future")
    time = _time_phrase(frame["time"], rng) if with_time else ""
    region = frame["region"]
    clauses = []
    if frame["phen"]:
        noun = rng.choice(en.WEATHER[frame["phen"]])
        if frame["wadj"]:
            noun = f"{rng.choice(en.WEATHER_ADJ[frame['wadj']][frame['phen']])} {noun}"
        negated = frame["neg"]
        pp = rng.choice(en.REGION[region][0]) if region else ""
        npr = rng.choice(en.REGION[region][1]) if region else ""
        options = []
        plural = noun.endswith("s") and not noun.endswith("sunshine")
        there = {"future": "there will be", "past": "there were" if plural else "there was",
                 "progressive": "there are" if plural else "there is",
                 "present": "there are" if plural else "there is"}[tense]
        if negated:
            options.append(f"{there} no {noun} {pp}".strip())
            if tense == "future":
                options.append(f"no {noun} {'are' if plural else 'is'} expected {pp}".strip())
                options.append(f"we will not see any {noun} {pp}".strip())
            if region:
                get = {"future": "will not get any", "past": "did not get any",
                       "progressive": "is not getting any", "present": "does not get any"}[tense]
                options.append(f"{npr} {get} {noun}")
        else:
            options.append(f"{there} {noun} {pp}".strip())
            if region:
                get = {"future": rng.choice(["will get", "will see", "can expect"]), "past": rng.choice(["got", "saw", "had"]),
                       "progressive": "is getting", "present": "gets"}[tense]
                options.append(f"{npr} {get} {noun}")
            if tense == "future":
                options.append(f"{noun} {'are' if plural else 'is'} expected {pp}".strip())
                options.append(f"we can expect {noun} {pp}".strip())
        clauses.append(rng.choice(options))
    if frame["tadj"]:
        adjective = rng.choice(en.TEMP_ADJ[frame["tadj"]])
        be = _be(tense, False, rng)
        where = f" {rng.choice(en.REGION[region][0])}" if region else ""
        if frame["phen"]:
            clauses.append(rng.choice([f"it {be} {adjective}", f"the weather {be} {adjective}"]))
        else:
            options = [f"it {be} {adjective}{where}", f"the weather {be} {adjective}{where}"]
            if region:
                options.append(f"{rng.choice(en.REGION[region][1])} {be} {adjective}")
            if tense == "future":
                options.append(f"{adjective} weather is expected{where}")
            clauses.append(rng.choice(options))
    if frame["temp"] is not None:
        n = rng.choice(en.number_surfaces(frame["temp"]))
        if abs(frame["temp"]) == 1:
            n = n.replace("degrees", "degree")
        unit = "degree" if abs(frame["temp"]) == 1 else "degrees"
        if clauses:
            clauses.append(rng.choice([f"with temperatures around {n} {unit}", f"with {n} {unit}",
                                       f"at about {n} {unit}"]))
        else:
            reach = {"future": "will reach", "past": "reached", "progressive": "are at", "present": "reach"}[tense]
            where = f" {rng.choice(en.REGION[region][0])}" if region else ""
            clauses.append(f"temperatures {reach} {n} {unit}{where}")
    text = clauses[0]
    for extra in clauses[1:]:
        joiner = " " if extra.startswith(("with", "at about")) else rng.choice([" and ", ", and "])
        text += joiner + extra
    return _place_time(text, time, rng)


def _activity_english(frame: dict, rng: random.Random) -> str:
    tense = _tense(frame["time"], "present")
    verb, comp = frame["verb"], frame["comp"]
    forms = rng.choice(en.VERB_FORMS[verb])
    subject = _person(frame["person"], rng)
    vp = _vp(forms, tense, frame["neg"], rng)
    if comp is None:
        obj = ""
    elif comp in en.PLACE:
        obj = rng.choice(en.PLACE[comp][1] if verb == "WORK" else en.PLACE[comp][0])
    else:
        obj = _noun_phrase(comp, frame["mod"], rng)
    clause = f"{vp} {obj}".strip()
    time = _time_phrase(frame["time"], rng)
    if rng.random() < 0.2:
        tail = f"{clause} {time}".strip() if time else clause
        be = "was" if tense == "past" else "is"
        return rng.choice([f"it {be} {subject} who {tail}", f"{subject} {be} the one who {tail}"])
    return _place_time(f"{subject} {clause}", time, rng)


def _transfer_english(frame: dict, rng: random.Random) -> str:
    tense = _tense(frame["time"], "present")
    verb = frame["verb"]
    forms = rng.choice(en.VERB_FORMS[verb])
    agent, recipient = _person(frame["agent"], rng), _person(frame["recipient"], rng)
    negated = frame["neg"]
    time = _time_phrase(frame["time"], rng)
    if frame["obj"]:
        obj = _noun_phrase(frame["obj"], frame["mod"], rng)
        options = [f"{agent} {_vp(forms, tense, negated, rng)} {recipient} {obj}",
                   f"{agent} {_vp(forms, tense, negated, rng)} {obj} to {recipient}",
                   f"{recipient} {_vp(forms, tense, negated, rng, passive=True)} {obj} by {agent}"]
        if verb in en.CONVERSE:
            options.append(f"{recipient} {_vp(en.CONVERSE[verb], tense, negated, rng)} {obj} from {agent}")
    else:
        options = [f"{agent} {_vp(forms, tense, negated, rng)} {recipient}",
                   f"{recipient} {_vp(forms, tense, negated, rng, passive=True)} by {agent}"]
        if not negated:
            be = "was" if tense == "past" else "is"
            options.append(f"it {be} {agent} who {_vp(forms, tense, False, rng)} {recipient}")
    return _place_time(rng.choice(options), time, rng)


def _quantity_english(frame: dict, rng: random.Random) -> str:
    singular, plural = rng.choice(en.NOUN[frame["thing"]])
    n = rng.choice(en.number_surfaces(frame["count"]))
    who = _person(frame["person"], rng)
    verb = rng.choice(["has", "owns", "has got"])
    return f"{who} {verb} {n} {plural}"


def _price_english(frame: dict, rng: random.Random) -> str:
    singular, _ = rng.choice(en.NOUN[frame["thing"]])
    n = frame["count"]
    if frame["currency"] == "EURO":
        amount = rng.choice([f"{n} euros", f"{en.number_words(n)} euros", f"€{n}"])
    else:
        amount = rng.choice([f"{n} dollars", f"{en.number_words(n)} dollars", f"${n}"])
    return rng.choice([f"the {singular} costs {amount}", f"the price of the {singular} is {amount}",
                       f"{en.article(singular)} {singular} costs {amount}"])


def _appointment_english(frame: dict, rng: random.Random) -> str:
    event = rng.choice(en.EVENT[frame["event"]])
    when = []
    if frame["day"]:
        when.append(f"on {frame['day'].capitalize()}")
    if frame["month"]:
        when.append(f"in {frame['month'].capitalize()}")
    if frame["hour"] is not None:
        h = rng.choice(en.number_surfaces(frame["hour"]))
        when.append(rng.choice([f"at {h} o'clock", f"at {h}"]))
    if rng.random() < 0.5:
        when.reverse()
    when_text = " ".join(when)
    if frame["neg"]:
        return rng.choice([f"there is no {event} {when_text}", f"there will be no {event} {when_text}",
                           f"no {event} takes place {when_text}"])
    return rng.choice([f"the {event} is {when_text}", f"the {event} takes place {when_text}",
                       f"the {event} will be {when_text}", f"{when_text} there is {en.article(event)} {event}"])


def _social_english(frame: dict, rng: random.Random) -> str:
    if frame["phrase"] == "my_name":
        name = frame["name"].capitalize()
        return rng.choice([f"My name is {name}.", f"I am {name}.", f"I'm called {name}."])
    return rng.choice(en.SOCIAL[frame["phrase"]][1])


def _compound_english(frame: dict, rng: random.Random) -> str:
    first, second = frame["parts"]
    tense = _tense(first["time"], "future")
    a = _weather_english(first, rng)
    b = _weather_english(second, rng, tense=tense, with_time=False)
    return f"{a}{rng.choice([', while ', ', and ', ', but ', '; '])}{b}"


_ENGLISH = {"weather": _weather_english, "activity": _activity_english, "transfer": _transfer_english,
            "quantity": _quantity_english, "price": _price_english,
            "appointment": _appointment_english, "social": _social_english,
            "compound": _compound_english}


def render_english(frame: dict, rng: random.Random) -> str:
    """One English sentence for the frame, chosen at random among its renderings."""
    text = _ENGLISH[frame["kind"]](frame, rng)
    text = " ".join(text.split())
    if not text.endswith((".", "?", "!")):
        text += "."
    return en.capitalize(text)


def english_renderings(frame: dict, rng: random.Random, n: int) -> list[str]:
    """Up to ``n`` distinct English sentences with the frame's meaning (the first is the text)."""
    seen: list[str] = []
    for _ in range(12 * n):
        text = render_english(frame, rng)
        if text not in seen:
            seen.append(text)
            if len(seen) == n:
                break
    return seen


def gloss_english(glosses: list[str]) -> str:
    """A literal English reading of a gloss sequence that is not a grammatical sentence (the
    output of a broken system): the glosses in sign order, lower-cased, without loci."""
    words = []
    for gloss in glosses:
        base, _, direction = gloss.partition(":")
        if base == "IX":
            continue
        words.append(base.lower().replace("-", " "))
    return en.capitalize(" ".join(words)) + "." if words else ""


def copy_frame(frame: dict) -> dict:
    return copy.deepcopy(frame)
