"""English surface forms of the synthetic language's concepts.

Several English words map to one sign (``mom``/``mother`` -> MOTHER, ``shop``/``store`` -> STORE,
``bike``/``bicycle`` -> BICYCLE), so paraphrases and synonyms share the same glosses, as in real
translation data. Function words (articles, auxiliaries, prepositions) have no sign at all.
"""
from __future__ import annotations

_DIGIT_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS_WORDS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """English words for an integer in -99..99 (``-5`` -> ``minus five``)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _DIGIT_WORDS[n]
    tens, units = divmod(n, 10)
    return _TENS_WORDS[tens - 2] + (f"-{_DIGIT_WORDS[units]}" if units else "")


def number_surfaces(n: int) -> list[str]:
    """Ways to write a number: digits and words (where BLEU-like metrics disagree)."""
    digits = f"minus {-n}" if n < 0 else str(n)
    return [digits, number_words(n)]


TIME = {
    "TODAY": ["today"],
    "TOMORROW": ["tomorrow"],
    "YESTERDAY": ["yesterday"],
    "NOW": ["right now", "at the moment"],
    "TONIGHT": ["tonight"],
    "NEXT-WEEK": ["next week", "in the coming week"],
    "LAST-WEEK": ["last week", "in the past week"],
    "WEEKEND": ["this weekend", "over the weekend"],
    "LATER": ["later", "later on"],
    "SOON": ["soon", "shortly"],
}
TIME_TENSE = {
    "TODAY": "future", "TOMORROW": "future", "YESTERDAY": "past", "NOW": "progressive",
    "TONIGHT": "future", "NEXT-WEEK": "future", "LAST-WEEK": "past", "WEEKEND": "future",
    "LATER": "future", "SOON": "future",
}
#: Time words that combine with a part of the day, and how.
TIME_WITH_PART = {
    "TODAY": {"MORNING": ["this morning"], "AFTERNOON": ["this afternoon"],
              "EVENING": ["this evening"], "NIGHT": ["tonight"], "NOON": ["at noon today", "today at noon"]},
    "TOMORROW": {p: [f"tomorrow {p.lower()}"] for p in ("MORNING", "AFTERNOON", "EVENING", "NIGHT")}
    | {"NOON": ["tomorrow at noon", "tomorrow at midday"]},
    "YESTERDAY": {"MORNING": ["yesterday morning"], "AFTERNOON": ["yesterday afternoon"],
                  "EVENING": ["yesterday evening"], "NIGHT": ["last night"],
                  "NOON": ["yesterday at noon"]},
}
PART_OF_DAY = {"MORNING": "morning", "AFTERNOON": "afternoon", "EVENING": "evening",
               "NIGHT": "night", "NOON": "noon"}

REGION = {  # (prepositional phrases, noun phrases)
    "NORTH": (["in the north"], ["the north"]),
    "SOUTH": (["in the south"], ["the south"]),
    "EAST": (["in the east"], ["the east"]),
    "WEST": (["in the west"], ["the west"]),
    "CENTER": (["in the center", "in the middle of the country"], ["the center"]),
    "COAST": (["on the coast", "along the coast"], ["the coast"]),
    "MOUNTAINS": (["in the mountains", "in the hills"], ["the mountains"]),
    "VALLEY": (["in the valleys"], ["the valleys"]),
    "ISLAND": (["on the islands"], ["the islands"]),
    "LAKE": (["near the lake", "around the lake"], ["the lake area"]),
    "RIVER": (["along the river"], ["the river valley"]),
    "FOREST": (["in the forest", "in the woods"], ["the forest"]),
    "CITY": (["in the city", "in town"], ["the city"]),
    "COUNTRYSIDE": (["in the countryside", "in rural areas"], ["the countryside"]),
}

WEATHER = {  # noun phrases
    "RAIN": ["rain"], "SNOW": ["snow", "snowfall"], "SUN": ["sunshine", "sun"],
    "CLOUD": ["clouds", "cloud cover"], "WIND": ["wind", "winds"], "STORM": ["storms"],
    "FOG": ["fog", "mist"], "THUNDER": ["thunderstorms", "thunder"], "HAIL": ["hail"],
    "FROST": ["frost"], "SHOWER": ["showers"], "DRIZZLE": ["drizzle"], "ICE": ["ice"],
}
#: Weather adjectives and the phenomena they combine with.
WEATHER_ADJ = {
    "STRONG": {"RAIN": ["heavy"], "SNOW": ["heavy"], "WIND": ["strong"], "STORM": ["severe", "violent"],
               "FOG": ["thick", "dense"], "SHOWER": ["heavy"]},
    "WEAK": {"RAIN": ["light"], "SNOW": ["light"], "WIND": ["light", "gentle"], "SHOWER": ["light"],
             "FOG": ["light"]},
    "LOCAL": {p: ["local", "scattered"] for p in ("RAIN", "SNOW", "SHOWER", "FOG", "THUNDER", "STORM")},
}
TEMP_ADJ = {
    "WARM": ["warm"], "COLD": ["cold", "chilly"], "HOT": ["hot", "very warm"], "COOL": ["cool"],
    "MILD": ["mild"], "FREEZING": ["freezing", "icy cold"], "DRY": ["dry"], "WET": ["wet", "damp"],
    "HUMID": ["humid", "muggy"], "CLEAR": ["clear", "bright"],
}

PERSON = {
    "MOTHER": ["my mother", "my mom"], "FATHER": ["my father", "my dad"],
    "SISTER": ["my sister"], "BROTHER": ["my brother"], "FRIEND": ["my friend", "a friend of mine"],
    "TEACHER": ["the teacher", "our teacher"], "DOCTOR": ["the doctor", "the physician"],
    "BOSS": ["the boss", "my boss"], "NEIGHBOR": ["the neighbor", "my neighbor"],
    "GRANDMOTHER": ["my grandmother", "grandma"], "GRANDFATHER": ["my grandfather", "grandpa"],
    "COUSIN": ["my cousin"], "STUDENT": ["the student"], "NURSE": ["the nurse"],
    "AUNT": ["my aunt"], "UNCLE": ["my uncle"],
}
NAMES = ["MARY", "JOHN", "ANNA", "PETER", "SARAH", "DAVID", "LISA", "TOM", "EMMA", "PAUL", "KATE", "MARK"]
for _name in NAMES:
    PERSON[_name] = [_name.capitalize()]

NOUN = {  # gloss -> list of (singular, plural); mass nouns have plural None
    "BOOK": [("book", "books")], "LETTER": [("letter", "letters")], "KEY": [("key", "keys")],
    "PHONE": [("phone", "phones"), ("mobile phone", "mobile phones")],
    "GIFT": [("gift", "gifts"), ("present", "presents")], "TICKET": [("ticket", "tickets")],
    "PHOTO": [("photo", "photos"), ("picture", "pictures")], "BAG": [("bag", "bags")],
    "COAT": [("coat", "coats"), ("jacket", "jackets")], "HAT": [("hat", "hats")],
    "BALL": [("ball", "balls")], "CUP": [("cup", "cups"), ("mug", "mugs")],
    "UMBRELLA": [("umbrella", "umbrellas")], "MAP": [("map", "maps")],
    "NEWSPAPER": [("newspaper", "newspapers"), ("paper", "papers")],
    "COMPUTER": [("computer", "computers"), ("laptop", "laptops")],
    "BICYCLE": [("bicycle", "bicycles"), ("bike", "bikes")], "CAR": [("car", "cars")],
    "FLOWER": [("flower", "flowers")], "PEN": [("pen", "pens")], "CARD": [("card", "cards")],
    "CLOCK": [("clock", "clocks")],
    "APPLE": [("apple", "apples")], "BREAD": [("bread", None)], "CHEESE": [("cheese", None)],
    "SOUP": [("soup", None)], "RICE": [("rice", None)], "FISH": [("fish", None)],
    "MEAT": [("meat", None)], "EGG": [("egg", "eggs")], "PIZZA": [("pizza", "pizzas")],
    "SALAD": [("salad", "salads")], "BANANA": [("banana", "bananas")],
    "ORANGE": [("orange", "oranges")], "CAKE": [("cake", "cakes")],
    "CHOCOLATE": [("chocolate", None)], "PASTA": [("pasta", None)],
    "SANDWICH": [("sandwich", "sandwiches")],
    "MILK": [("milk", None)], "COFFEE": [("coffee", None)], "TEA": [("tea", None)],
    "WATER": [("water", None)], "JUICE": [("juice", None)], "BEER": [("beer", None)],
    "WINE": [("wine", None)], "LEMONADE": [("lemonade", None)],
    "CAT": [("cat", "cats")], "DOG": [("dog", "dogs")], "BIRD": [("bird", "birds")],
    "HORSE": [("horse", "horses")], "RABBIT": [("rabbit", "rabbits")],
    "CHICKEN": [("chicken", "chickens"), ("hen", "hens")], "COW": [("cow", "cows")],
    "SHEEP": [("sheep", "sheep")],
    "TELEVISION": [("TV", None), ("television", None)], "FILM": [("film", "films"), ("movie", "movies")],
    "FOOTBALL": [("football", None), ("soccer", None)], "TENNIS": [("tennis", None)],
    "CHESS": [("chess", None)], "PIANO": [("piano", None)], "GUITAR": [("guitar", None)],
    "BASKETBALL": [("basketball", None)], "NEWS": [("news", None)],
}
#: Nouns that take "the" after verbs (``play the piano``, ``watch the news``).
DEFINITE = {"PIANO", "GUITAR", "NEWS"}

ADJECTIVE = {
    "RED": ["red"], "BLUE": ["blue"], "GREEN": ["green"], "YELLOW": ["yellow"], "BLACK": ["black"],
    "WHITE": ["white"], "BROWN": ["brown"], "PINK": ["pink"], "BIG": ["big", "large"],
    "SMALL": ["small", "little"], "NEW": ["new"], "OLD": ["old"], "EXPENSIVE": ["expensive"],
    "CHEAP": ["cheap", "inexpensive"], "BEAUTIFUL": ["beautiful", "lovely"],
}

PLACE = {  # (destination phrase "to X", location phrase "at X")
    "STORE": (["to the store", "to the shop"], ["at the store", "at the shop"]),
    "SCHOOL": (["to school"], ["at school"]),
    "HOSPITAL": (["to the hospital"], ["at the hospital"]),
    "PARK": (["to the park"], ["in the park"]),
    "HOME": (["home"], ["at home"]),
    "RESTAURANT": (["to a restaurant", "to the restaurant"], ["at the restaurant"]),
    "LIBRARY": (["to the library"], ["at the library"]),
    "CHURCH": (["to church"], ["at church"]),
    "BANK": (["to the bank"], ["at the bank"]),
    "OFFICE": (["to the office"], ["at the office"]),
    "STATION": (["to the station", "to the train station"], ["at the station"]),
    "AIRPORT": (["to the airport"], ["at the airport"]),
    "BEACH": (["to the beach"], ["on the beach"]),
    "GYM": (["to the gym"], ["at the gym"]),
    "MUSEUM": (["to the museum"], ["at the museum"]),
    "CINEMA": (["to the cinema", "to the movies"], ["at the cinema"]),
    "MARKET": (["to the market"], ["at the market"]),
    "POOL": (["to the pool", "to the swimming pool"], ["at the pool"]),
    "ZOO": (["to the zoo"], ["at the zoo"]),
    "UNIVERSITY": (["to the university", "to university"], ["at the university"]),
    "POST-OFFICE": (["to the post office"], ["at the post office"]),
    "HOTEL": (["to the hotel"], ["at the hotel"]),
}

EVENT = {
    "MEETING": ["meeting"], "PARTY": ["party"], "CLASS": ["class", "lesson"],
    "APPOINTMENT": ["appointment"], "GAME": ["game", "match"], "CONCERT": ["concert"],
    "WEDDING": ["wedding"], "TRIP": ["trip", "excursion"], "EXAM": ["exam", "test"],
    "BIRTHDAY": ["birthday party"],
}

# Verb forms: (base, third person singular, past, -ing, past participle).
VERB_FORMS = {
    "GO": [("go", "goes", "went", "going", "gone"), ("head", "heads", "headed", "heading", "headed")],
    "EAT": [("eat", "eats", "ate", "eating", "eaten"), ("have", "has", "had", "having", "had")],
    "DRINK": [("drink", "drinks", "drank", "drinking", "drunk"), ("have", "has", "had", "having", "had")],
    "BUY": [("buy", "buys", "bought", "buying", "bought"),
            ("purchase", "purchases", "purchased", "purchasing", "purchased")],
    "COOK": [("cook", "cooks", "cooked", "cooking", "cooked"), ("make", "makes", "made", "making", "made")],
    "READ": [("read", "reads", "read", "reading", "read")],
    "WATCH": [("watch", "watches", "watched", "watching", "watched")],
    "PLAY": [("play", "plays", "played", "playing", "played")],
    "LIKE": [("like", "likes", "liked", "liking", "liked"), ("enjoy", "enjoys", "enjoyed", "enjoying", "enjoyed")],
    "WANT": [("want", "wants", "wanted", "wanting", "wanted")],
    "NEED": [("need", "needs", "needed", "needing", "needed")],
    "WORK": [("work", "works", "worked", "working", "worked")],
    "SLEEP": [("sleep", "sleeps", "slept", "sleeping", "slept")],
    "SWIM": [("swim", "swims", "swam", "swimming", "swum")],
    "RUN": [("run", "runs", "ran", "running", "run"), ("jog", "jogs", "jogged", "jogging", "jogged")],
    "WALK": [("walk", "walks", "walked", "walking", "walked")],
    "DRIVE": [("drive", "drives", "drove", "driving", "driven")],
    "STUDY": [("study", "studies", "studied", "studying", "studied"),
              ("learn", "learns", "learned", "learning", "learned")],
    "CLEAN": [("clean", "cleans", "cleaned", "cleaning", "cleaned")],
    "WASH": [("wash", "washes", "washed", "washing", "washed")],
    "DANCE": [("dance", "dances", "danced", "dancing", "danced")],
    "SING": [("sing", "sings", "sang", "singing", "sung")],
    "LOSE": [("lose", "loses", "lost", "losing", "lost")],
    "FIND": [("find", "finds", "found", "finding", "found")],
    "FORGET": [("forget", "forgets", "forgot", "forgetting", "forgotten")],
    "ORDER": [("order", "orders", "ordered", "ordering", "ordered")],
    "FIX": [("fix", "fixes", "fixed", "fixing", "fixed"), ("repair", "repairs", "repaired", "repairing", "repaired")],
    "PAINT": [("paint", "paints", "painted", "painting", "painted")],
    # directional verbs
    "GIVE": [("give", "gives", "gave", "giving", "given")],
    "SEND": [("send", "sends", "sent", "sending", "sent")],
    "SHOW": [("show", "shows", "showed", "showing", "shown")],
    "BRING": [("bring", "brings", "brought", "bringing", "brought")],
    "LEND": [("lend", "lends", "lent", "lending", "lent")],
    "THROW": [("throw", "throws", "threw", "throwing", "thrown")],
    "HELP": [("help", "helps", "helped", "helping", "helped")],
    "ASK": [("ask", "asks", "asked", "asking", "asked"), ("question", "questions", "questioned", "questioning", "questioned")],
    "TELL": [("inform", "informs", "informed", "informing", "informed")],
    "TEACH": [("teach", "teaches", "taught", "teaching", "taught")],
    "CALL": [("call", "calls", "called", "calling", "called"), ("phone", "phones", "phoned", "phoning", "phoned")],
    "INVITE": [("invite", "invites", "invited", "inviting", "invited")],
    "VISIT": [("visit", "visits", "visited", "visiting", "visited")],
    "ANSWER": [("answer", "answers", "answered", "answering", "answered")],
    "WARN": [("warn", "warns", "warned", "warning", "warned")],
    "PAY": [("pay", "pays", "paid", "paying", "paid")],
}
#: Converse verbs that say the same event from the recipient's side ("B gets X from A").
CONVERSE = {
    "GIVE": ("get", "gets", "got", "getting", "gotten"),
    "SEND": ("receive", "receives", "received", "receiving", "received"),
    "LEND": ("borrow", "borrows", "borrowed", "borrowing", "borrowed"),
}

SOCIAL = {  # phrase key -> (glosses, English renderings)
    "hello": (["HELLO"], ["Hello.", "Hi.", "Hi there."]),
    "goodbye": (["GOODBYE"], ["Goodbye.", "Bye.", "Bye-bye."]),
    "thanks": (["THANK-YOU"], ["Thank you.", "Thanks.", "Thanks to you."]),
    "thanks_very": (["THANK-YOU", "VERY"], ["Thank you very much.", "Thanks a lot.", "Many thanks."]),
    "sorry": (["SORRY"], ["Sorry.", "I am sorry.", "I apologize."]),
    "please": (["PLEASE"], ["Please.", "Please do.", "If you please."]),
    "yes": (["YES"], ["Yes.", "Yeah.", "Yes, indeed."]),
    "no": (["NO"], ["No.", "Nope.", "No way."]),
    "welcome": (["WELCOME"], ["Welcome.", "Welcome here.", "You are welcome here."]),
    "good_morning": (["MORNING", "GOOD"], ["Good morning.", "Morning!", "A good morning to you."]),
    "good_evening": (["EVENING", "GOOD"], ["Good evening.", "Evening!", "A good evening to you."]),
    "nice_meet": (["NICE", "MEET", "YOU"], ["Nice to meet you.", "Pleased to meet you.", "It is nice to meet you."]),
    "see_tomorrow": (["SEE", "YOU", "TOMORROW"], ["See you tomorrow.", "I will see you tomorrow.", "Until tomorrow."]),
    "see_later": (["SEE", "YOU", "LATER"], ["See you later.", "I will see you later.", "Catch you later."]),
    "how_are_you": (["HOW", "YOU"], ["How are you?", "How are you doing?", "How is it going?"]),
    "fine": (["ME", "FINE"], ["I am fine.", "I'm fine.", "I am doing fine."]),
    "good_night": (["NIGHT", "GOOD"], ["Good night.", "Night!", "Have a good night."]),
}


def article(noun_phrase: str) -> str:
    """``a`` or ``an`` for a noun phrase (by its first letter, enough for this vocabulary)."""
    return "an" if noun_phrase[:1].lower() in "aeiou" else "a"


def capitalize(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
