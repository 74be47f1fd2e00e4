"""Regenerate detectors/data/common_words.txt (run by hand; not needed at run time).

Needs two packages the project does not depend on, so use a throwaway virtualenv:
    python -m venv /tmp/cw && /tmp/cw/bin/pip install wordfreq==3.1.1 english-words==2.0.2
    /tmp/cw/bin/python bench/make_common_words.py

A word is "common" when the english-words "web2" dictionary lists it in lower case (so it is an ordinary word,
not only a proper noun) and wordfreq rates it at Zipf >= 3.0 in English (seen at least once per million
words). Names that are also such words ("Will", "Grace", "Hall") then need name context before the PUPIL
recogniser treats them as names; rarer dictionary words ("oliver" is not one) do not.
"""
from pathlib import Path

from english_words import get_english_words_set
from wordfreq import zipf_frequency

# Popular UK forenames and surnames that the rule above lets in only because people called them are written
# about so often ("amelia" is a rare medical term, "harry" a rare verb, "khan" a title). In school prose they
# are almost always names, so they must not need extra context.
NOT_ORDINARY = set("""
abigail ama amelia amir amy aria arjun ava ben benjamin beth billy blake bobby carter cole dexter emma florence
harper harry henry jack jake jasper jess kai kyle lewis li lucy luke mary maya molly phoebe rohan rory sophia toby
tommy austin ellis harvey louie reggie freddie alfie archie ellie millie evie elsie rosie oscar leo theo
bailey baxter berg chapman clark collins costa cox fletcher goldsmith kelly khan kim lee lin martin morgan morris
mulligan murphy parker patel shah shaw silva singh walsh wang wong wright
""".split())

# Abbreviations and short words that prompts use in lower case ("max 150 words") and rosters hold as names.
EXTRA_ORDINARY = set("max min approx info intro demo memo ref sec spec stats bio lab mum dad nan gran".split()) | set(
    # British school words the (American) web2 list lacks
    "rota fayre tombola lanyard jotter biro rounders conker conkers mufti invigilator tutee".split())

OUT = Path(__file__).resolve().parent.parent / "detectors" / "data" / "common_words.txt"
HEADER = """\
# Common English words (lower case), used to tell a roster name from an ordinary word that is also a name
# ("summer term", "Will you...", "the school hall"). A word here needs name context (a title, a possessive,
# a following "said"/"is"/"in Year 8", or spaCy tagging it PERSON) before it is treated as a pupil name.
# Generated: words of the english-words 2.0.2 "web2" list that occur in lower case, with a wordfreq 3.1.1
# English Zipf frequency >= 3.0, less popular names that are rarely ordinary words in school prose (Amelia,
# Harry, Khan: see NOT_ORDINARY there), plus a few abbreviations ("max 150 words") and British school words ("rota").
# Regenerate with bench/make_common_words.py.
"""


def main() -> None:
    words = get_english_words_set(["web2"], alpha=True, lower=False)
    common = sorted({w for w in words if w.islower() and zipf_frequency(w, "en") >= 3.0 and w not in NOT_ORDINARY}
                    | EXTRA_ORDINARY)
    OUT.write_text(HEADER + "\n".join(common) + "\n", encoding="utf-8")
    print(f"wrote {len(common)} words to {OUT}")


if __name__ == "__main__":
    main()
