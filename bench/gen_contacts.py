#!/usr/bin/env python3
"""Writes N contacts as a sync.blue directory CSV: realistic names and valid numbers of many
countries (valid per Google's libphonenumber, via the `phonenumbers` package), typed WORK,
MOBILE and EXTENSION. Deterministic for a given N and seed.

Usage: gen_contacts.py N [SEED] [--varied] > contacts.csv
--varied: family names built from syllables (tens of thousands of distinct ones, as a large
company has), so a search for a name finds a handful of people in any book size.
Also: gen_contacts.py --numbers N [SEED] prints just the numbers, one per line, as typed
(national with spaces for the number's own country, international otherwise)."""
import random
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

REGIONS = ["DE", "DE", "DE", "AT", "CH", "GB", "FR", "NL", "IT", "ES", "PL", "US", "SE", "DK", "BE"]
FIRST = ["Anna", "Jürgen", "Zoë", "Émile", "Ayşe", "Lars", "Sofia", "Jan", "Chiara", "Hans", "Maria",
         "Oliver", "Ben", "Lena", "Tom", "Søren", "Małgorzata", "José", "Ingrid", "Björn", "Noah", "Mia"]
LAST = ["Müller", "Schmidt", "Weiß", "O'Brien", "Öztürk", "Nielsen", "Kowalska", "de Vries", "Rossi",
        "Keller", "García", "Baltz", "Fischer", "Baker", "Lefèvre", "Straßer", "Jäger", "Nowak", "Dubois"]
COMPANY = ["ACME GmbH", "Bäckerei Groß & Söhne", "Contoso Ltd", "Keller AG", "Fischer Design", ""]


def number(rng, region, kind):
    ex = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    nsn = str(ex.national_number)
    for _ in range(50):
        keep = max(3, len(nsn) - 5)
        cand = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
        p = phonenumbers.parse("+%d%s" % (ex.country_code, cand))
        if phonenumbers.is_valid_number(p):
            return p
    return ex


def typed(rng, p):
    if rng.random() < 0.5:
        return phonenumbers.format_number(p, PhoneNumberFormat.E164)
    return phonenumbers.format_number(p, PhoneNumberFormat.INTERNATIONAL)


SYLLABLES = ["ber", "mann", "kow", "ski", "hof", "er", "lin", "ger", "stein", "bach", "wal", "ter",
             "ro", "si", "no", "va", "ka", "mi", "der", "sen", "hau", "ser", "len", "ti", "mo", "ran"]


def varied_family(rng):
    parts = [rng.choice(SYLLABLES) for _ in range(rng.choice([2, 3, 3, 4]))]
    return "".join(parts).capitalize()


def main():
    args = sys.argv[1:]
    varied = "--varied" in args
    args = [a for a in args if a != "--varied"]
    numbers_only = args and args[0] == "--numbers"
    if numbers_only:
        args = args[1:]
    n = int(args[0])
    rng = random.Random(int(args[1]) if len(args) > 1 else 42)
    if numbers_only:
        for _ in range(n):
            p = number(rng, rng.choice(REGIONS), rng.choice([PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE]))
            print(typed(rng, p))
        return
    out = sys.stdout
    out.write("internal_id,display_name,family_name,given_name,phone,email\n")
    for i in range(n):
        g, f = rng.choice(FIRST), (varied_family(rng) if varied else rng.choice(LAST))
        region = rng.choice(REGIONS)
        nums = ["WORK:" + typed(rng, number(rng, region, PhoneNumberType.FIXED_LINE))]
        if rng.random() < 0.6:
            nums.append("MOBILE:" + typed(rng, number(rng, region, PhoneNumberType.MOBILE)))
        if rng.random() < 0.3:
            nums.append("EXT:%d" % rng.randint(100, 9999))
        name = '"%s %s"' % (g, f.replace('"', '""'))
        email = "%s.%s%d@example.org" % (g.lower(), f.lower().replace(" ", "").replace("'", ""), i)
        out.write('%d,%s,"%s","%s",%s,%s\n' % (i, name, f, g, ";".join(nums), email))


if __name__ == "__main__":
    main()
