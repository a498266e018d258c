"""The fixed lexicon of the synthetic sign language.

Every sign is defined by the five classic phonological parameters: handshape, location,
movement, palm orientation and the use of the hands (one hand, two symmetric hands, or the
dominant hand acting on the non-dominant one as a base). The lexicon is part of the *language*,
not of a corpus: it is built by code from a fixed internal seed, so every seed, split and machine
sees the same signs.

Why it is built the way it is:

* Signs of the same semantic category are laid out in consecutive pairs, and the second sign of a
  pair copies the first and changes exactly one parameter. Substituting one for the other keeps a
  sentence grammatical but changes its meaning, which is what the ``minimal_pair`` hard negatives
  need (the hardest case a metric must catch).
* Numbers and days follow a system, as in real sign languages: a digit is a handshape, the teens
  add a wrist twist and the tens a sideways movement; days share location and movement and differ
  by handshape. ``THREE`` vs ``THIRTEEN`` or ``TUESDAY`` vs ``THURSDAY`` therefore differ in one
  parameter only, which keeps the ``number`` hard negatives hard.
* Parameter values are far apart in space (locations at least several centimetres apart,
  handshapes with different extended fingers), so a pose model can learn them.
"""
from __future__ import annotations

import dataclasses
import functools
import random

# --- parameter inventories --------------------------------------------------------------------

#: Handshapes: per finger (index, middle, ring, pinky) the (MCP, PIP) flexion in degrees, the
#: finger spread (0..1), and the thumb's abduction (0 = along the index, 1 = out) and flexion
#: (0 = straight, 1 = across the palm).
HANDSHAPES: dict[str, dict] = {
    "B": {"fingers": [(0, 0), (0, 0), (0, 0), (0, 0)], "spread": 0.0, "thumb": (0.1, 0.3)},
    "5": {"fingers": [(0, 0), (0, 0), (0, 0), (0, 0)], "spread": 1.0, "thumb": (1.0, 0.0)},
    "A": {"fingers": [(90, 100), (90, 100), (90, 100), (90, 100)], "spread": 0.0, "thumb": (0.0, 0.0)},
    "S": {"fingers": [(90, 100), (90, 100), (90, 100), (90, 100)], "spread": 0.0, "thumb": (0.3, 1.0)},
    "1": {"fingers": [(0, 0), (90, 100), (90, 100), (90, 100)], "spread": 0.0, "thumb": (0.3, 1.0)},
    "V": {"fingers": [(0, 0), (0, 0), (90, 100), (90, 100)], "spread": 1.0, "thumb": (0.3, 1.0)},
    "W": {"fingers": [(0, 0), (0, 0), (0, 0), (90, 100)], "spread": 1.0, "thumb": (0.3, 1.0)},
    "Y": {"fingers": [(90, 100), (90, 100), (90, 100), (0, 0)], "spread": 0.5, "thumb": (1.0, 0.0)},
    "L": {"fingers": [(0, 0), (90, 100), (90, 100), (90, 100)], "spread": 0.0, "thumb": (1.0, 0.0)},
    "I": {"fingers": [(90, 100), (90, 100), (90, 100), (0, 0)], "spread": 0.0, "thumb": (0.3, 1.0)},
    "C": {"fingers": [(35, 55), (35, 55), (35, 55), (35, 55)], "spread": 0.2, "thumb": (0.8, 0.3)},
    "O": {"fingers": [(55, 75), (55, 75), (55, 75), (55, 75)], "spread": 0.0, "thumb": (0.7, 0.7)},
    "X": {"fingers": [(10, 100), (90, 100), (90, 100), (90, 100)], "spread": 0.0, "thumb": (0.3, 1.0)},
    "bentB": {"fingers": [(90, 0), (90, 0), (90, 0), (90, 0)], "spread": 0.0, "thumb": (0.2, 0.2)},
    "claw": {"fingers": [(20, 85), (20, 85), (20, 85), (20, 85)], "spread": 1.0, "thumb": (0.9, 0.5)},
}

#: Locations: the palm centre's target relative to the mid-point between the shoulders, in
#: metres for an average signer (x towards the signer's left = image right, y up, z towards the
#: camera), given for the dominant (right) hand.
LOCATIONS: dict[str, tuple[float, float, float]] = {
    "neutral": (-0.08, -0.14, 0.34),
    "high": (-0.14, 0.16, 0.34),
    "side": (-0.32, -0.08, 0.24),
    "low": (-0.04, -0.32, 0.30),
    "forehead": (-0.02, 0.34, 0.15),
    "temple": (-0.10, 0.31, 0.09),
    "nose": (0.0, 0.25, 0.17),
    "chin": (0.0, 0.16, 0.15),
    "cheek": (-0.08, 0.22, 0.13),
    "chest": (-0.03, -0.10, 0.15),
    "shoulder": (-0.17, -0.01, 0.12),
    "stomach": (0.0, -0.30, 0.17),
    "base_hand": (0.05, -0.13, 0.32),
}

#: Movements and their base duration in frames at 25 fps.
MOVEMENTS: dict[str, int] = {
    "hold": 10,
    "forward": 12,
    "down": 12,
    "up": 12,
    "sideways": 12,
    "toward_body": 12,
    "circle": 16,
    "arc": 14,
    "zigzag": 16,
    "tap": 13,
    "twist": 12,
    "wiggle": 14,
    "close": 12,
}

#: Palm orientations: (finger direction, palm normal) in world axes for the right hand.
ORIENTATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "palm_forward": ((0, 1, 0), (0, 0, 1)),
    "palm_back": ((0, 1, 0), (0, 0, -1)),
    "palm_down": ((0, 0, 1), (0, -1, 0)),
    "palm_up": ((0, 0, 1), (0, 1, 0)),
    "palm_in": ((0, 1, 0), (1, 0, 0)),
    "palm_in_forward": ((0, 0, 1), (1, 0, 0)),
    "fingers_in": ((1, 0, 0), (0, 0, -1)),
}

HANDS = ("one", "two_sym", "two_base")

PARAMETERS = ("handshape", "location", "movement", "orientation", "hands")

#: Movement used by directional verbs (from one referent locus to another) and pointing signs.
DIRECTIONAL = "directional"
POINT = "point"


@dataclasses.dataclass(frozen=True)
class Sign:
    """One lexical sign: its gloss, semantic category and phonological parameters."""

    gloss: str
    category: str
    handshape: str
    location: str
    movement: str
    orientation: str
    hands: str
    mouth: float  # mouthing openness 0..1 (a weak, sign-specific face cue)

    def parameters(self) -> tuple[str, str, str, str, str]:
        return (self.handshape, self.location, self.movement, self.orientation, self.hands)


# --- vocabulary by category ---------------------------------------------------------------------
# Categories drive both the grammar (which slot a sign can fill) and the minimal pairs (a sign is
# paired with a neighbour of the same category, so substitution stays grammatical).

NUMBER_WORDS = [
    "ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE",
    "TEN", "ELEVEN", "TWELVE", "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN",
    "EIGHTEEN", "NINETEEN",
]
TENS_WORDS = ["TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
MONTHS = [
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER",
]

VOCABULARY: dict[str, list[str]] = {
    "time": ["TODAY", "TOMORROW", "YESTERDAY", "NOW", "TONIGHT", "NEXT-WEEK", "LAST-WEEK",
             "WEEKEND", "LATER", "SOON"],
    "part_of_day": ["MORNING", "AFTERNOON", "EVENING", "NIGHT", "NOON"],
    "day": DAYS,
    "month": MONTHS,
    "region": ["NORTH", "SOUTH", "EAST", "WEST", "CENTER", "COAST", "MOUNTAINS", "VALLEY",
               "ISLAND", "LAKE", "RIVER", "FOREST", "CITY", "COUNTRYSIDE"],
    "weather": ["RAIN", "SNOW", "SUN", "CLOUD", "WIND", "STORM", "FOG", "THUNDER", "HAIL",
                "FROST", "SHOWER", "DRIZZLE", "ICE"],
    "weather_adj": ["STRONG", "WEAK", "LOCAL"],
    "temp_adj": ["WARM", "COLD", "HOT", "COOL", "MILD", "FREEZING", "DRY", "WET", "HUMID",
                 "CLEAR"],
    "temperature": ["TEMPERATURE", "DEGREE", "MINUS"],
    "number": NUMBER_WORDS + TENS_WORDS + ["HUNDRED"],
    "name": ["MARY", "JOHN", "ANNA", "PETER", "SARAH", "DAVID", "LISA", "TOM", "EMMA", "PAUL",
             "KATE", "MARK"],
    "kin": ["MOTHER", "FATHER", "SISTER", "BROTHER", "FRIEND", "TEACHER", "DOCTOR", "BOSS",
            "NEIGHBOR", "GRANDMOTHER", "GRANDFATHER", "COUSIN", "STUDENT", "NURSE", "AUNT",
            "UNCLE"],
    "dir_verb_obj": ["GIVE", "SEND", "SHOW", "BRING", "LEND", "THROW"],
    "dir_verb": ["HELP", "ASK", "TELL", "TEACH", "CALL", "INVITE", "VISIT", "ANSWER", "WARN",
                 "PAY"],
    "object": ["BOOK", "LETTER", "KEY", "PHONE", "GIFT", "TICKET", "PHOTO", "BAG", "COAT", "HAT",
               "BALL", "CUP", "UMBRELLA", "MAP", "NEWSPAPER", "COMPUTER", "BICYCLE", "CAR",
               "FLOWER", "PEN", "CARD", "CLOCK"],
    "food": ["APPLE", "BREAD", "CHEESE", "SOUP", "RICE", "FISH", "MEAT", "EGG", "PIZZA", "SALAD",
             "BANANA", "ORANGE", "CAKE", "CHOCOLATE", "PASTA", "SANDWICH"],
    "drink": ["MILK", "COFFEE", "TEA", "WATER", "JUICE", "BEER", "WINE", "LEMONADE"],
    "place": ["STORE", "SCHOOL", "HOSPITAL", "PARK", "HOME", "RESTAURANT", "LIBRARY", "CHURCH",
              "BANK", "OFFICE", "STATION", "AIRPORT", "BEACH", "GYM", "MUSEUM", "CINEMA",
              "MARKET", "POOL", "ZOO", "UNIVERSITY", "POST-OFFICE", "HOTEL"],
    "verb": ["GO", "EAT", "DRINK", "BUY", "COOK", "READ", "WATCH", "PLAY", "LIKE", "WANT", "NEED",
             "WORK", "SLEEP", "SWIM", "RUN", "WALK", "DRIVE", "STUDY", "CLEAN", "WASH", "DANCE",
             "SING", "LOSE", "FIND", "FORGET", "ORDER", "FIX", "PAINT", "HAVE", "COST"],
    "entertainment": ["TELEVISION", "FILM", "FOOTBALL", "TENNIS", "CHESS", "PIANO", "GUITAR",
                      "BASKETBALL", "NEWS"],
    "color": ["RED", "BLUE", "GREEN", "YELLOW", "BLACK", "WHITE", "BROWN", "PINK"],
    "object_adj": ["BIG", "SMALL", "NEW", "OLD", "EXPENSIVE", "CHEAP", "BEAUTIFUL"],
    "animal": ["CAT", "DOG", "BIRD", "HORSE", "RABBIT", "CHICKEN", "COW", "SHEEP"],
    "event": ["MEETING", "PARTY", "CLASS", "APPOINTMENT", "GAME", "CONCERT", "WEDDING", "TRIP",
              "EXAM", "BIRTHDAY"],
    "function": ["NOT", "IX", "TIME", "EURO", "DOLLAR", "ALSO", "VERY", "AGAIN"],
    "social": ["HELLO", "GOODBYE", "THANK-YOU", "PLEASE", "SORRY", "YES", "NO", "WELCOME", "GOOD",
               "NICE", "MEET", "SEE", "YOU", "ME", "MY", "NAME", "HOW", "FINE"],
}

# Handshape of each digit (0..9): distinct shapes so numbers differ visibly.
_DIGIT_HANDSHAPES = ["O", "1", "V", "W", "B", "5", "Y", "L", "X", "claw"]
_DAY_HANDSHAPES = ["1", "V", "W", "A", "B", "Y", "S"]
_MONTH_HANDSHAPES = ["A", "S", "1", "V", "W", "Y", "L", "I", "C", "O", "X", "claw"]

# Fixed so the lexicon is the same for every corpus; changing it changes the language.
_LEXICON_SEED = 20250903


def _systematic(gloss: str) -> tuple | None:
    """Parameters of signs that follow a system (numbers, days, months); None for others."""
    if gloss in NUMBER_WORDS:
        value = NUMBER_WORDS.index(gloss)
        movement = "hold" if value < 10 else "twist"
        return (_DIGIT_HANDSHAPES[value % 10], "neutral", movement, "palm_back", "one")
    if gloss in TENS_WORDS:
        return (_DIGIT_HANDSHAPES[TENS_WORDS.index(gloss) + 2], "neutral", "sideways", "palm_back", "one")
    if gloss == "HUNDRED":
        return ("C", "neutral", "sideways", "palm_in", "one")
    if gloss in DAYS:
        return (_DAY_HANDSHAPES[DAYS.index(gloss)], "high", "circle", "palm_back", "one")
    if gloss in MONTHS:
        return (_MONTH_HANDSHAPES[MONTHS.index(gloss)], "base_hand", "down", "palm_in", "two_base")
    if gloss == "IX":
        return ("1", "neutral", POINT, "palm_down", "one")
    if gloss == "NOT":
        return ("A", "chin", "forward", "palm_in", "one")
    return None


def _random_parameters(rng: random.Random) -> tuple:
    location = rng.choice(list(LOCATIONS))
    movement = rng.choice(list(MOVEMENTS))
    if location == "base_hand":
        hands = "two_base"
    else:
        hands = rng.choices(["one", "two_sym"], weights=[0.7, 0.3])[0]
    return (rng.choice(list(HANDSHAPES)), location, movement, rng.choice(list(ORIENTATIONS)), hands)


def _change_one(params: tuple, which: int, rng: random.Random) -> tuple:
    """A copy of ``params`` with parameter ``which`` changed to another valid value."""
    params = list(params)
    if which == 0:
        params[0] = rng.choice([h for h in HANDSHAPES if h != params[0]])
    elif which == 1:
        choices = [loc for loc in LOCATIONS if loc not in (params[1], "base_hand")]
        if params[4] == "two_base":  # moving off the base hand also changes the hands: avoid
            return _change_one(tuple(params), 0, rng)
        params[1] = rng.choice(choices)
    elif which == 2:
        params[2] = rng.choice([m for m in MOVEMENTS if m != params[2]])
    elif which == 3:
        params[3] = rng.choice([o for o in ORIENTATIONS if o != params[3]])
    else:
        if params[4] == "two_base":
            return _change_one(tuple(params), 2, rng)
        params[4] = "two_sym" if params[4] == "one" else "one"
    return tuple(params)


@functools.lru_cache(maxsize=1)
def build_lexicon() -> dict[str, Sign]:
    """The lexicon, gloss -> :class:`Sign`, identical on every call and machine."""
    rng = random.Random(_LEXICON_SEED)
    used: set[tuple] = set()
    lexicon: dict[str, Sign] = {}
    which_cycle = 0
    directional = set(VOCABULARY["dir_verb_obj"]) | set(VOCABULARY["dir_verb"])
    for category, glosses in VOCABULARY.items():
        previous: tuple | None = None
        for position, gloss in enumerate(glosses):
            if gloss in lexicon:
                raise ValueError(f"duplicate gloss {gloss}")
            params = _systematic(gloss)
            if params is None:
                for attempt in range(1000):
                    if position % 2 == 1 and previous is not None:
                        # Second of a pair: a minimal pair of the previous sign. A directional
                        # verb's location and movement are fixed, so it varies the others.
                        which = (0, 3)[attempt % 2] if gloss in directional else which_cycle % 4
                        params = _change_one(previous, which, rng)
                    else:
                        params = _random_parameters(rng)
                    if gloss in directional:
                        params = (params[0], "neutral", DIRECTIONAL, params[3], "one")
                    if params not in used:
                        break
                else:  # pragma: no cover - the parameter space is far larger than the lexicon
                    raise RuntimeError("could not find free parameters")
                if position % 2 == 1:
                    which_cycle += 1
            if params in used:
                raise ValueError(f"parameter collision for {gloss}")
            used.add(params)
            previous = params
            lexicon[gloss] = Sign(gloss, category, *params, mouth=round(rng.random(), 3))
    return lexicon


@functools.lru_cache(maxsize=1)
def sign_index() -> dict[str, int]:
    """gloss -> position in the lexicon (a stable integer id per sign)."""
    return {gloss: i for i, gloss in enumerate(build_lexicon())}


def parameter_differences(a: Sign, b: Sign) -> list[str]:
    """Names of the parameters in which two signs differ."""
    return [name for name, x, y in zip(PARAMETERS, a.parameters(), b.parameters()) if x != y]


@functools.lru_cache(maxsize=1)
def minimal_pairs() -> list[tuple[str, str, str]]:
    """All pairs of signs differing in exactly one parameter: (gloss_a, gloss_b, parameter).

    Directional verbs are compared by their citation form (their path is set by the sentence).
    """
    lexicon = build_lexicon()
    signs = list(lexicon.values())
    pairs = []
    for i, a in enumerate(signs):
        for b in signs[i + 1:]:
            diff = parameter_differences(a, b)
            if len(diff) == 1:
                pairs.append((a.gloss, b.gloss, diff[0]))
    return pairs


@functools.lru_cache(maxsize=1)
def minimal_partners() -> dict[str, list[str]]:
    """gloss -> minimal-pair partners *of the same category* (grammatical substitutes)."""
    lexicon = build_lexicon()
    partners: dict[str, list[str]] = {}
    for a, b, _ in minimal_pairs():
        if lexicon[a].category == lexicon[b].category:
            partners.setdefault(a, []).append(b)
            partners.setdefault(b, []).append(a)
    return partners
