"""Combinatorial prompts for the issue-9 tiers, in build_corpus.py's markup.

Every tier draws hand-written parts (openings, bodies, closings, table layouts, letters in ten languages) and
roster pupils with a fixed seed, and the combinations are picked without repeating a part too often, so no two
prompts are nearly identical (build_corpus refuses those). The hold-out prompts use parts of their own (the
HOLDOUT halves of each pool), written at the same time as the rest and never tuned against.

`generated(roster)` returns {(tier, split): [(action, language, marked text), ...]}.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict

# -- people and places ----------------------------------------------------------------------------------------------

WELSH_PUPILS = ["Haf Llywelyn", "Eira Bowen", "Seren Vaughan", "Gwyn Parry", "Bryn Prosser", "Celyn Rees",
                "Osian ap Iorwerth", "Mabli Gruffydd", "Llŷr Huws", "Rhodri Bevan", "Cerys Madoc", "Tomos Pryce",
                "Gwen Hopkins", "Iolo Griffiths", "Ffion Evans", "Dafydd ap Rhys", "Lowri Pugh", "Bethan Jones"]
COMMUNITY_PUPILS = {
    "pl": ["Jan Nowicki", "Zofia Wójcik", "Wiktoria Kaczmarek", "Mikołaj Zając", "Antoni Szymański", "Kacper Wiśniewski",
           "Maja Jankowska", "Tomasz Nowak"],
    "ro": ["Andrei Constantin", "Bianca Stan", "Raluca Munteanu", "Ionuț Dumitrescu", "Ana-Maria Popescu"],
    "pt": ["Beatriz Gonçalves", "Rodrigo Sousa", "Inês Carvalho", "Lucas Fernandes", "Tiago Costa"],
    "lt": ["Gabija Kazlauskaitė", "Lukas Jankauskas", "Austėja Stankevičiūtė", "Deividas Petrauskas"],
    "tr": ["Can Yılmaz", "Deniz Aydın", "Emre Çelik", "Yusuf Demir"],
    "ur": ["Aleena Butt", "Usman Malik", "Mo Iqbal", "Ayaan Chaudhry", "Maryam Siddiqui", "Bilal Hussain"],
    "vi": ["Thu Nguyen", "Minh Do", "Linh Pham"],
    "ar": ["Mohammed Al-Hassan", "Rojin Aziz", "Mursal Ahmadi", "Amir Rahman"],
    "so": ["Said Abdi", "Sagal Mohamud", "Abdirahman Hassan", "Ibrahim Warsame", "Hafsa Yusuf"],
    "uk": ["Sofiia Kovalenko", "Maksym Shevchenko"],
}
OTHER_PUPILS = ["Blessing Okafor", "Favour Eze", "Precious Chukwu", "Seun Adeleke", "Comfort Boateng", "Justice Appiah",
                "Gift Asante", "Jiaxin Li", "Yiming Sun", "Hao Zhang", "Ka Yan Wong", "Caoimhe Ní Bhriain",
                "Tadhg O'Shea", "Niamh Hegarty", "Bridget McDonagh", "Dolly Maughan", "Martin Joyce", "Tyson Boswell",
                "Kizzy Lovell", "Sadia Islam", "Rahim Uddin", "Sumaiya Miah", "Sunny Kaur", "Harpreet Dhillon",
                "Semhar Tesfay", "Sujan Gurung", "Tharshan Sivakumar", "Angel Reyes", "Ardit Hoxha", "Dominik Baláž",
                "Del Francis", "Lincoln Hayes", "Jordan Kent", "Paris Ndlovu", "Ava Chester", "Harvey Preston",
                "June Abernathy", "April Doherty", "Miles Bishop", "Eric Poole", "Sheila Lanyon", "Ralph Gorski",
                "Eva Birch", "Miranda Okoro", "Sebastian Croft", "Viola Marley", "Pip Sims", "Keeley Pearson",
                "Len Kaminski", "Lydia Bennet", "Oliver Smith", "Zoë O'Brien", "Grace Okonkwo", "Chidera Nwosu",
                "Arjun Sharma", "Freya MacLeod", "Kyle Brennan", "Amara Mensah", "Joshua Owusu", "Isla Murray",
                "Charlie Smith-Jones", "Jayden-Lee Campbell", "Sofia Rossi", "Reuben Goldberg", "Ewan Sinclair"]
ALL_PUPILS = WELSH_PUPILS + [p for ps in COMMUNITY_PUPILS.values() for p in ps] + OTHER_PUPILS

STAFF = [("Gareth Probert", "Head of Year 8"), ("Nerys Tudor", "ALNCo"), ("Huw Beynon", "Pennaeth Cynorthwyol"),
         ("Rachel Hargreaves", "Head of English"), ("Delyth Meredith", "Cydlynydd ADY"), ("Aled Gwilym", "DSL"),
         ("Fiona Pemberton", "SENCo"), ("Sanjay Raval", "Head of Science"), ("Bernadette Quigley", "office manager"),
         ("Wojciech Lis", "EAL coordinator"), ("Menna Rowlands", "athrawes Blwyddyn 6"), ("Clive Duckworth", "caretaker"),
         ("Priyanka Desai", "Deputy Head"), ("Colm Fitzpatrick", "PE teacher"), ("Joanne Fairclough", "attendance officer"),
         ("Iwan Lloyd", "Head of Welsh"), ("Yetunde Bakare", "learning mentor"), ("Rhian Meirion", "Pennaeth"),
         ("Marcus Oyelaran", "Head of Year 11"), ("Hayley Brightwell", "cover supervisor")]
PARENT_FORENAMES = ["Halima", "Agnieszka", "Florin", "Nkechi", "Kwabena", "Farhana", "Shazia", "Tariq", "Dorota",
                    "Ramunas", "Gülsen", "Thanh", "Fadumo", "Olena", "Sinéad", "Bronwen", "Glenys", "Trevor",
                    "Bukola", "Marisol", "Dariusz", "Elena", "Nasra", "Kerry-Ann", "Wayne", "Leanne", "Dionne"]
OUTSIDERS = ["Kayleigh Brundle", "Tobias Featherstone", "Anwen Thrower", "Jenson Mabbutt", "Kinga Sobczak",
             "Ayodele Fashola", "Rhydian Cadwaladr", "Mihaela Ursu", "Bartek Pawlak", "Khadra Elmi", "Zeynep Arslan",
             "Ruairí Breathnach", "Nomvula Dube", "Cosmin Vasile", "Elan Trotman", "Tegwen Pennant",
             "Bronagh Tierney", "Oskar Lindahl", "Fatou Ceesay", "Wiremu Tane", "Alfie-Ray Crump", "Dulcie Penhaligon"]

STREETS = ["Heol y Coed", "Ffordd yr Orsaf", "Stryd Fawr", "Lôn Las", "Ffordd Glyndŵr", "Heol Isaf", "Stryd y Capel",
           "Lôn y Felin", "Maes y Dre", "Cilgant y Lli", "Clos Hafod", "Teras Bryn Awel", "Rhodfa'r Môr", "Heol Llanishen Fach",
           "Mill Lane", "Station Road", "Victoria Street", "Church Close", "Park Avenue", "Orchard Drive",
           "Hawthorn Crescent", "Chapel Terrace", "Meadow Way", "Albert Place", "Wellfield Road", "Cromwell Grove",
           "Tudor Rise", "Alma Street", "Beech Walk", "Canal Side Mews", "Jubilee Gardens", "Clarendon Parade",
           "Sycamore Court", "Highfield Road", "Elm Row", "Granville Square"]
HOUSE_NAMES = ["Tŷ Gwyn", "Bwthyn y Nant", "Rose Cottage", "The Old Forge", "Hafod Lodge", "Tŷ'r Ysgol", "Ivy House",
               "Pen y Bryn Farm"]
LOCALITIES = [("Rhiwbina", "Cardiff", "CF14 6HP"), ("Treforys", "Swansea", "SA6 8BN"), ("Pontcanna", "Cardiff", "CF11 9HD"),
              ("Llanbadarn Fawr", "Aberystwyth", "SY23 3QW"), ("Y Felinheli", "Caernarfon", "LL56 4RQ"),
              ("Maesglas", "Newport", "NP20 3FA"), ("Moss Side", "Manchester", "M14 4TX"),
              ("Harehills", "Leeds", "LS8 5NB"), ("Walthamstow", "London", "E17 7JN"), ("Sneinton", "Nottingham", "NG2 4QB"),
              ("Easton", "Bristol", "BS5 6XJ"), ("Toxteth", "Liverpool", "L8 2UF"), ("Sparkbrook", "Birmingham", "B11 1LW"),
              ("Manningham", "Bradford", "BD8 7HG"), ("Foleshill", "Coventry", "CV6 5AW"), ("Highfields", "Leicester", "LE2 0DT"),
              ("Penparcau", "Aberystwyth", "SY23 1RU"), ("Sketty", "Swansea", "SA2 9BW"), ("Llandaf", "Cardiff", "CF5 2YH")]


def postcode_forms(code: str) -> list[str]:
    return [code, code.lower(), code.replace(" ", ""), code.replace(" ", "").lower()]


class Gen:
    """Seeded picks from the pools; each pick of a part is counted so parts rotate instead of repeating."""

    def __init__(self, roster, seed: int) -> None:
        self.rng = random.Random(seed)
        self.roster = roster
        self.used: dict = defaultdict(int)

    def one(self, pool):
        keys = [repr(x) for x in pool]
        least = min(self.used[k] for k in keys)
        n = self.rng.choice([n for n, k in enumerate(keys) if self.used[k] == least])
        self.used[keys[n]] += 1
        return pool[n]

    def row(self, name: str) -> dict:
        return self.roster.row(name)

    def fore(self, name: str) -> str:
        return self.row(name)["Preferred Forename"]

    def sur(self, name: str) -> str:
        return self.row(name)["Legal Surname"]

    def address(self, welsh_only: bool = False) -> tuple[str, str, str]:
        """(marked address, post town, postcode) -- house number or name + street (+ locality)."""
        rng = self.rng
        street = rng.choice(STREETS[:14] if welsh_only else STREETS)
        locality, town, code = rng.choice(LOCALITIES[:6] if welsh_only else LOCALITIES)
        kind = rng.randrange(4)
        if kind == 0:
            first = f"{rng.randint(1, 148)} {street}"
        elif kind == 1:
            first = f"{rng.choice(['Flat', 'Fflat'] if welsh_only else ['Flat', 'Apartment'])} {rng.randint(1, 12)}, {rng.randint(2, 90)} {street}"
        elif kind == 2:
            first = f"{rng.choice(HOUSE_NAMES)}, {street}"
        else:
            first = f"{rng.randint(1, 60)}{rng.choice('ab')} {street}"
        return first + f", {locality}", town, code


def split_pool(pool: list, holdout: bool) -> list:
    """Disjoint halves of a pool: about a third for the hold-out, the rest for dev."""
    cut = max(1, len(pool) // 3)
    return pool[-cut:] if holdout else pool[:-cut]


def shingles(text: str) -> set[int]:
    """Word trigrams: two prompts sharing most of them are near-identical."""
    words = re.findall(r"\w+", text.casefold())
    return {hash(tuple(words[i:i + 3])) for i in range(max(1, len(words) - 2))}


def similarity(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def generated(roster) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    from generate_tiers import GENERATORS  # the tier recipes use the helpers above

    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    short = []
    for seed, (tier, make, dev_n, holdout_n) in enumerate(GENERATORS, start=900):
        for split, n in (("dev", dev_n), ("holdout", holdout_n)):
            g = Gen(roster, seed * (7 if split == "holdout" else 1))
            prompts: list[tuple[str, str, str]] = []
            kept: list[set[int]] = []
            attempts = 0
            while len(prompts) < n and attempts < n * 30:
                attempts += 1
                item = make(g, split == "holdout")
                grams = shingles(item[2])
                if all(similarity(grams, other) < 0.6 for other in kept):
                    kept.append(grams)
                    prompts.append(item)
            if len(prompts) < n:
                short.append(f"{tier} ({split}): only {len(prompts)} distinct prompts of {n}")
            out[(tier, split)] = prompts
    if short:
        raise ValueError("add parts to the recipes:\n  " + "\n  ".join(short))
    return out

