"""Writes bench/corpus/roster.csv: a synthetic SIMS-style pupil export. Every person in it is invented.

Featured pupils are the ones the prompts talk about (their names exercise apostrophes, accents, hyphens,
multi-word surnames, preferred names, and names that are also ordinary words). The rest are filler drawn from
name pools with a fixed seed, so the file is reproducible: `python bench/corpus/make_roster.py`.

The first 240 rows are the roster the first corpus was written against and never change (the class-list tiers
draw from them). COMMUNITIES follows them: pupils from every community in UK schools, many with names that are
also words, weekday or month abbreviations, places, set-text characters, school products or Python keywords.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from identifiers import IdentifierFactory  # noqa: E402

HERE = Path(__file__).parent
HEADER = ["Admission No", "UPN", "ULN", "Legal Surname", "Legal Forename", "Middle Name", "Preferred Surname",
          "Preferred Forename", "Gender", "DOB", "Year", "Reg Group"]

# (legal forename, middle, legal surname, preferred forename or "", gender, year)
FEATURED = [
    ("Oliver", "James", "Smith", "", "M", 9),
    ("Zoë", "", "O'Brien", "", "F", 8),
    ("Amelia", "Rose", "Hughes", "", "F", 6),
    ("William", "", "Turner", "Will", "M", 10),
    ("Summer", "", "Clarke", "", "F", 5),
    ("May", "", "Thompson", "", "F", 3),
    ("Grace", "Adaeze", "Okonkwo", "", "F", 11),
    ("Marek", "", "Kowalski", "Mark", "M", 9),
    ("Rose", "", "Patel", "", "F", 7),
    ("Harry", "", "Page", "", "M", 4),
    ("Isabella", "", "de la Cruz", "Bella", "F", 10),
    ("Mohammed", "", "Al-Hassan", "", "M", 8),
    ("Siobhán", "", "Murphy", "", "F", 12),
    ("Dafydd", "", "ap Rhys", "", "M", 11),
    ("Aoife", "", "Gallagher", "", "F", 7),
    ("Kacper", "", "Wiśniewski", "", "M", 6),
    ("Chidera", "", "Nwosu", "", "F", 10),
    ("Ayaan", "", "Chaudhry", "", "M", 2),
    ("Freya", "", "MacLeod", "", "F", 9),
    ("Jayden-Lee", "", "Campbell", "", "M", 8),
    ("Ella-Rose", "", "Whitfield", "", "F", 5),
    ("Charlie", "", "Smith-Jones", "", "M", 7),
    ("Hope", "", "Adeyemi", "", "F", 4),
    ("Leo", "", "Hunter", "", "M", 6),
    ("Ffion", "", "Evans", "", "F", 8),
    ("Kai", "", "Nakamura", "", "M", 11),
    ("Amara", "", "Mensah", "", "F", 9),
    ("Deividas", "", "Petrauskas", "", "M", 10),
    ("Ruby", "", "Bell", "", "F", 1),
    ("Noah", "", "Hall", "", "M", 3),
    ("Maryam", "", "Siddiqui", "", "F", 12),
    ("Tomasz", "", "Nowak", "", "M", 12),
    ("Evie", "", "Green", "", "F", 6),
    ("Alfie", "", "Wood", "", "M", 8),
    ("Lily-Mae", "", "Robinson", "", "F", 2),
    ("Ibrahim", "", "Warsame", "", "M", 9),
    ("Lucas", "", "Fernandes", "", "M", 5),
    ("Sofia", "", "Rossi", "", "F", 7),
    ("Thandiwe", "", "Moyo", "", "F", 11),
    ("Arjun", "", "Sharma", "", "M", 10),
    ("Priya", "", "Sharma", "", "F", 8),
    ("Eilidh", "", "Fraser", "", "F", 9),
    ("Callum", "", "McAllister", "", "M", 12),
    ("Niamh", "", "O'Connor", "", "F", 10),
    ("Cian", "", "O'Neill", "", "M", 6),
    ("Róisín", "", "Ní Dhomhnaill", "", "F", 11),
    ("Jake", "", "Bradley", "", "M", 11),
    ("Megan", "", "Price", "", "F", 10),
    ("Daniel", "", "Van der Merwe", "", "M", 9),
    ("Hannah", "", "Lewis", "", "F", 4),
    ("Yusuf", "", "Demir", "", "M", 7),
    ("Ana-Maria", "", "Popescu", "", "F", 8),
    ("Mia", "", "Chen", "", "F", 5),
    ("Joshua", "", "Owusu", "", "M", 13),
    ("Olivia", "", "Brown", "", "F", 3),
    ("Jack", "", "Wilson", "", "M", 6),
    ("Poppy", "", "Fletcher", "", "F", 2),
    ("Archie", "", "Doyle", "", "M", 1),
    ("Isla", "", "Murray", "", "F", 4),
    ("Reuben", "", "Goldberg", "", "M", 10),
    ("Faith", "", "Ogunleye", "", "F", 9),
    ("Autumn", "", "Reid", "", "F", 6),
    ("Bilal", "", "Hussain", "", "M", 11),
    ("Zara", "", "Ahmed", "", "F", 8),
    ("Tyler", "", "Morgan", "", "M", 10),
    ("Chloe", "", "Walsh", "", "F", 11),
    ("Ethan", "", "Clarke", "", "M", 7),
    ("Sienna", "", "Marsh", "", "F", 5),
    ("Gabriel", "", "Silva", "", "M", 3),
    ("Keira", "", "Buckley", "", "F", 10),
    ("Nathaniel", "", "Osei", "Nate", "M", 12),
    ("Elizabeth", "", "Fairbrother", "Libby", "F", 9),
    ("Alexander", "", "Ivanov", "Sasha", "M", 8),
    ("Maja", "", "Jankowska", "", "F", 7),
    ("Amir", "", "Rahman", "", "M", 6),
    ("Aisha", "", "Bello", "", "F", 10),
    ("Finley", "", "Rowe", "", "M", 5),
    ("Matilda", "", "Ashworth", "Tilly", "F", 4),
    ("Dylan", "", "Pritchard", "", "M", 9),
    ("Leah", "", "Goldsmith", "", "F", 11),
    ("Oscar", "", "Lindqvist", "", "M", 8),
    ("Esmé", "", "Laurent", "", "F", 6),
    ("Chloë", "", "Barker-Hayes", "", "F", 9),
    ("Renée", "", "Dubois", "", "F", 10),
    ("Joel", "", "Abernethy", "", "M", 7),
    ("Sky", "", "Donnelly", "", "F", 3),
    ("River", "", "Watts", "", "M", 2),
    ("Holly", "", "Young", "", "F", 8),
    ("Ben", "", "King", "", "M", 10),
    ("Lewis", "", "Long", "", "M", 9),
    ("Molly", "", "White", "", "F", 6),
    ("Rory", "", "Fox", "", "M", 5),
    ("Max", "", "Parsons", "", "M", 11),
    ("Sophie", "", "Baker", "", "F", 7),
    ("Jamie", "", "Cook", "", "M", 8),
    ("Joy", "", "Ekwueme", "", "F", 4),
    ("Tiago", "", "Costa", "", "M", 9),
    ("Hafsa", "", "Yusuf", "", "F", 10),
    ("Kyle", "", "Brennan", "", "M", 11),
    ("Bethan", "", "Jones", "", "F", 12),
    ("Dominic", "", "Price-Williams", "", "M", 13),
    ("Martha", "", "Knight", "", "F", 7),
    ("Hugo", "", "Marchetti", "", "M", 6),
    ("Ivy", "", "Carter", "", "F", 1),
    ("Reggie", "", "Stone", "", "M", 3),
    ("Charlotte", "", "Baxter", "Lottie", "F", 5),
    ("Florence", "", "Adebayo", "", "F", 8),
    ("Isaac", "", "Thornton", "", "M", 9),
    ("Winston", "", "Clarke", "", "M", 10),
    ("Mary", "", "Ellis", "", "F", 7),
    ("Romeo", "", "Santos", "", "M", 10),
    ("Juliet", "", "Ward", "", "F", 10),
    ("Anne", "", "Gorecki", "", "F", 9),
    ("Henry", "", "Achterberg", "", "M", 8),
    ("Grace", "", "Mullen", "", "F", 2),
    ("Taiwo", "", "Bankole", "", "M", 11),
    ("Kehinde", "", "Bankole", "", "M", 11),
    ("Saoirse", "", "Kavanagh", "", "F", 9),
    ("Lowri", "", "Pugh", "", "F", 7),
    ("Ewan", "", "Sinclair", "", "M", 10),
    ("Harper", "", "Quinn", "", "F", 3),
    ("Zainab", "", "Olatunji", "", "F", 12),
    ("Patrick", "", "Mulligan", "Paddy", "M", 8),
    ("Jessica", "", "Ng", "Jess", "F", 11),
    ("Alesha", "", "Dixon-Barnes", "", "F", 9),
    ("Muhammad", "Ali", "Qureshi", "", "M", 10),
    ("Stanislav", "", "Horvat", "Stan", "M", 7),
]

# Appended after the first 240 rows (same columns as FEATURED), grouped by community; the comment says why a
# name is awkward for a detector.
COMMUNITIES = [
    # Welsh: forenames that are Welsh words (haf summer, eira snow, seren star, gwyn white, bryn hill, celyn holly)
    ("Haf", "", "Llywelyn", "", "F", 8), ("Eira", "", "Bowen", "", "F", 5), ("Seren", "Mai", "Vaughan", "", "F", 10),
    ("Gwyn", "", "Parry", "", "M", 9), ("Bryn", "", "Prosser", "", "M", 7), ("Celyn", "", "Rees", "", "F", 6),
    ("Osian", "", "ap Iorwerth", "", "M", 11), ("Mabli", "", "Gruffydd", "", "F", 4), ("Llŷr", "", "Huws", "", "M", 9),
    ("Rhodri", "", "Bevan", "", "M", 12), ("Cerys", "", "Madoc", "", "F", 11), ("Tomos", "Wyn", "Pryce", "", "M", 10),
    ("Gwenllian", "", "Hopkins", "Gwen", "F", 7), ("Iolo", "", "Griffiths", "", "M", 3),
    # Polish (Jan is also January)
    ("Jan", "", "Nowicki", "", "M", 9), ("Zofia", "", "Wójcik", "", "F", 7), ("Wiktoria", "", "Kaczmarek", "", "F", 10),
    ("Mikołaj", "", "Zając", "", "M", 8), ("Antoni", "", "Szymański", "", "M", 5),
    # Romanian (Stan is also Stanislav Horvat's preferred name)
    ("Andrei", "", "Constantin", "", "M", 8), ("Bianca", "", "Stan", "", "F", 9), ("Raluca", "", "Munteanu", "", "F", 11),
    ("Ionuț", "", "Dumitrescu", "", "M", 6),
    # Somali (Said is also a verb)
    ("Said", "", "Abdi", "", "M", 10), ("Sagal", "", "Mohamud", "", "F", 8), ("Abdirahman", "", "Hassan", "", "M", 7),
    # Pakistani and Indian (Butt, Sunny; Mo is two letters)
    ("Aleena", "", "Butt", "", "F", 9), ("Usman", "", "Malik", "", "M", 11), ("Mohammed", "", "Iqbal", "Mo", "M", 8),
    ("Sunny", "", "Kaur", "", "F", 6), ("Harpreet", "", "Dhillon", "", "M", 10),
    # Bangladeshi (Islam is also a religion)
    ("Sadia", "", "Islam", "", "F", 10), ("Rahim", "", "Uddin", "", "M", 7), ("Sumaiya", "", "Miah", "", "F", 5),
    # Nigerian and Ghanaian: names that are words
    ("Blessing", "", "Okafor", "", "F", 9), ("Favour", "", "Eze", "", "F", 8), ("Precious", "", "Chukwu", "", "F", 11),
    ("Oluwaseun", "", "Adeleke", "Seun", "M", 10), ("Comfort", "", "Boateng", "", "F", 7),
    ("Justice", "", "Appiah", "", "M", 9), ("Gift", "", "Asante", "", "F", 6),
    # Chinese and Hong Kong (Li, Sun: surnames that are words or weekday abbreviations)
    ("Jiaxin", "", "Li", "", "F", 10), ("Yiming", "", "Sun", "", "M", 8), ("Hao", "", "Zhang", "", "M", 12),
    ("Ka Yan", "", "Wong", "", "F", 9),
    # Vietnamese (Thu is Thursday, Do is a verb)
    ("Thu", "", "Nguyen", "", "F", 7), ("Minh", "", "Do", "", "M", 9), ("Linh", "", "Pham", "", "F", 11),
    # Irish and Irish Traveller
    ("Caoimhe", "", "Ní Bhriain", "", "F", 10), ("Tadhg", "", "O'Shea", "", "M", 8), ("Niamh", "", "Hegarty", "", "F", 9),
    ("Bridget", "", "McDonagh", "", "F", 6), ("Dolly", "", "Maughan", "", "F", 4), ("Martin", "", "Joyce", "", "M", 9),
    # Romany Gypsy
    ("Tyson", "", "Boswell", "", "M", 8), ("Kizzy", "", "Lovell", "", "F", 7),
    # Turkish (Can is also a verb, Deniz is the sea)
    ("Can", "", "Yılmaz", "", "M", 10), ("Deniz", "", "Aydın", "", "F", 8), ("Emre", "", "Çelik", "", "M", 11),
    # Lithuanian
    ("Gabija", "", "Kazlauskaitė", "", "F", 9), ("Lukas", "", "Jankauskas", "", "M", 7),
    ("Austėja", "", "Stankevičiūtė", "", "F", 10),
    # Portuguese and Brazilian
    ("Beatriz", "", "Gonçalves", "", "F", 8), ("Rodrigo", "", "Sousa", "", "M", 10), ("Inês", "", "Carvalho", "", "F", 6),
    # Ukrainian, Eritrean, Afghan, Kurdish, Nepali, Tamil, Filipino, Albanian, Slovak Roma, Caribbean
    ("Sofiia", "", "Kovalenko", "", "F", 8), ("Maksym", "", "Shevchenko", "", "M", 10), ("Semhar", "", "Tesfay", "", "F", 9),
    ("Mursal", "", "Ahmadi", "", "F", 7), ("Rojin", "", "Aziz", "", "F", 11), ("Sujan", "", "Gurung", "", "M", 9),
    ("Tharshan", "", "Sivakumar", "", "M", 12), ("Angel", "", "Reyes", "", "F", 5), ("Ardit", "", "Hoxha", "", "M", 10),
    ("Dominik", "", "Baláž", "", "M", 8), ("Delroy", "", "Francis", "Del", "M", 11),
    # Places (Lincoln, Kent, Jordan, Paris, Chester, Preston, Poole), months (June, April), other words
    ("Lincoln", "", "Hayes", "", "M", 9), ("Jordan", "", "Kent", "", "M", 10), ("Paris", "", "Ndlovu", "", "F", 8),
    ("Ava", "", "Chester", "", "F", 7), ("Harvey", "", "Preston", "", "M", 11), ("June", "", "Abernathy", "", "F", 6),
    ("April", "", "Doherty", "", "F", 9), ("Miles", "", "Bishop", "", "M", 10),
    # Set-text characters (An Inspector Calls, Lord of the Flies, Jekyll and Hyde, The Tempest, Twelfth Night,
    # Great Expectations, DNA, Journey's End), school products (SIMS, Hegarty, Pearson) and Python (pip, del, len)
    ("Eric", "", "Poole", "", "M", 11), ("Sheila", "", "Lanyon", "", "F", 10), ("Ralph", "", "Gorski", "", "M", 9),
    ("Eva", "", "Birch", "", "F", 11), ("Miranda", "", "Okoro", "", "F", 10), ("Sebastian", "", "Croft", "", "M", 11),
    ("Viola", "", "Marley", "", "F", 9), ("Philippa", "", "Sims", "Pip", "F", 10), ("Keeley", "", "Pearson", "", "F", 11),
    ("Leonard", "", "Kaminski", "Len", "M", 8), ("Lydia", "", "Bennet", "", "F", 10),
    # Two-letter preferred names (seating plans say "Al B", "Jo P", "Ed F")
    ("Alistair", "", "Boyd", "Al", "M", 8), ("Joanna", "", "Pike", "Jo", "F", 8), ("Edward", "", "Farrell", "Ed", "M", 8),
]

FORENAMES_F = ["Amelia", "Ava", "Isla", "Emily", "Sophia", "Layla", "Evelyn", "Aria", "Phoebe", "Harriet", "Imogen",
               "Nia", "Seren", "Catrin", "Orla", "Caoimhe", "Ayesha", "Fatima", "Khadija", "Anaya", "Simran",
               "Adaeze", "Ifeoma", "Abena", "Nadia", "Zuzanna", "Oliwia", "Ioana", "Elif", "Yasmin", "Lucy",
               "Eleanor", "Georgia", "Scarlett", "Darcy", "Maisie", "Elsie", "Bonnie", "Niamh", "Kirsty",
               "Shannon", "Jade", "Tia", "Shanice", "Mei", "Xinyi", "Hodan", "Ilhan", "Esther", "Naomi"]
FORENAMES_M = ["George", "Arthur", "Theo", "Freddie", "Alfie", "Oscar", "Jacob", "Logan", "Ryan", "Connor",
               "Owen", "Gethin", "Osian", "Fraser", "Lachlan", "Declan", "Oisín", "Hamza", "Zayn", "Rayan",
               "Vihaan", "Aarav", "Kwame", "Tobi", "Emeka", "Chinedu", "Jakub", "Filip", "Andrei", "Mehmet",
               "Ahmed", "Kieran", "Liam", "Harvey", "Louis", "Toby", "Elliot", "Jude", "Sami", "Wei",
               "Jun", "Abdi", "Hassan", "Samuel", "Reece", "Ellis", "Mason", "Zachary", "Luca", "Arlo"]
SURNAMES = ["Taylor", "Davies", "Roberts", "Walker", "Wright", "Thomas", "Edwards", "Harrison", "Cooper",
            "Morris", "Ward", "Watson", "Richards", "Jenkins", "Griffiths", "Howells", "Llewellyn", "Maddox",
            "Campbell", "Stewart", "Robertson", "MacDonald", "Henderson", "Byrne", "Kelly", "Ryan", "Gallagher",
            "Khan", "Begum", "Ali", "Islam", "Akhtar", "Mistry", "Patel", "Gupta", "Kaur", "Singh",
            "Adebayo", "Okafor", "Eze", "Boateng", "Asante", "Mohamed", "Farah", "Abdullahi", "Kamara",
            "Zielinski", "Lewandowski", "Kaminski", "Dumitru", "Ionescu", "Yilmaz", "Kaya", "Nguyen", "Wong",
            "Liu", "Da Silva", "Pereira", "Santos", "Mahmood", "Hamid", "Barnes", "Fisher", "Holloway",
            "Sutton", "Rigby", "Ashton", "Gill", "Sandhu", "Bhatt", "Osborne", "Whittaker", "Lockwood",
            "Ellison", "Brannigan", "Mac an tSaoi", "St John", "Le Roux", "O'Sullivan", "McCarthy"]


def reg_group(year: int, rng: random.Random) -> str:
    if year <= 6:
        return f"{year}{rng.choice('ABC')}" if year else "RB"
    return f"{year}{rng.choice('KMRSTW')}"


def birth_date(year: int, rng: random.Random) -> dt.date:
    # Academic year 2026/27: Year Y pupils were born 1 Sep (2021 - Y) .. 31 Aug (2022 - Y).
    start = dt.date(2021 - year, 9, 1)
    return start + dt.timedelta(days=rng.randrange(365))


ORIGINAL_PUPILS = 240  # rows of the first corpus's roster, kept byte for byte


def build(seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    ids = IdentifierFactory(seed=seed)
    people = list(FEATURED)
    used = {(p[0], p[2]) for p in people}
    while len(people) < ORIGINAL_PUPILS:
        gender = rng.choice("MF")
        fore = rng.choice(FORENAMES_F if gender == "F" else FORENAMES_M)
        sur = rng.choice(SURNAMES)
        if (fore, sur) in used:
            continue
        used.add((fore, sur))
        people.append((fore, "", sur, "", gender, rng.randint(0, 13)))
    people += COMMUNITIES
    rows = []
    for n, (fore, middle, sur, pref, gender, year) in enumerate(people, start=1):
        rows.append({
            "Admission No": f"{4000 + n:06d}",
            "UPN": ids.upn(temporary=(n % 37 == 0)),
            "ULN": ids.uln() if year >= 10 else "",
            "Legal Surname": sur,
            "Legal Forename": fore,
            "Middle Name": middle,
            "Preferred Surname": sur,
            "Preferred Forename": pref or fore,
            "Gender": gender,
            "DOB": birth_date(year, rng).strftime("%d/%m/%Y"),
            "Year": "R" if year == 0 else str(year),
            "Reg Group": reg_group(year, rng),
        })
    return rows


def main() -> None:
    rows = build()
    with open(HERE / "roster.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} pupils to {HERE / 'roster.csv'}")


if __name__ == "__main__":
    main()
