#!/usr/bin/env python3
"""Generate the phone-number normalization reference table (tests/data/numbers.tsv).

This script holds a hand-written list of (input, default_region, note) cases in
the shapes people actually type (E.164, international with assorted separators,
"+49 (0)..." trunk-in-parentheses, "00"/"011" international dialing prefixes,
national numbers with trunk prefix, national numbers parsed with the wrong
region, vanity letters, direct-dial suffixes, and clearly invalid inputs).

The `expected` column is NOT hand-written: it comes from Google's libphonenumber
via the Python port `phonenumbers`:

    expected = format_number(parse(input, region), PhoneNumberFormat.E164)
               if parse() succeeds and is_valid_number() is true,
               otherwise the literal "INVALID".

The phonenumbers version used is printed as the first line of the output
(`# phonenumbers X.Y.Z`).

Regenerate (from the repository root):

    pip install phonenumbers
    python3 tests/data/gen_numbers.py > tests/data/numbers.tsv

Output columns (TAB-separated, with header): input, region, expected, note.
Inputs never contain TAB characters; some deliberately carry leading/trailing
spaces. No inputs use extension notation, and no inputs are 6 digits or fewer
without a "+"/"00" prefix (those are internal PBX extensions in phonedir).
"""

import sys

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

# (input, default_region, note)
CASES = [
    # ------------------------------------------------------------------ DE
    ("+4923648873040", "DE", "DE E.164 fixed line (Haltern)"),
    ("+49 231 1234567", "DE", "DE international with spaces (Dortmund)"),
    ("+49 30 12345678", "DE", "DE international Berlin"),
    ("+49-89-1234567", "DE", "DE international with dashes"),
    ("+49 (0)89 123456", "DE", "DE international with (0) trunk"),
    ("+49 (0) 30 1234567", "DE", "DE international with spaced (0) trunk"),
    ("+49-89/1234 56", "DE", "DE mixed dash slash space"),
    ("+49 231 12345-67", "DE", "DE international direct-dial suffix"),
    ("0049 231 1234567", "DE", "DE 00-prefixed international"),
    ("004930123456", "DE", "DE 00-prefixed compact"),
    ("030/12345-67", "DE", "DE national with slash and dash"),
    ("(0231) 12 34 56", "DE", "DE national area code in parentheses"),
    ("0231 1234567", "DE", "DE national with space"),
    ("030 12345-0", "DE", "DE national direct-dial suffix -0"),
    ("089 / 12 34 56 78", "DE", "DE national spaced slash"),
    ("04921 123456", "DE", "DE Emden area code beginning with 49"),
    ("+49 4921 123456", "DE", "DE Emden international (49 after +49)"),
    ("0049 4921 123456", "DE", "DE Emden 00-prefixed"),
    ("+4949211234567", "DE", "DE Emden E.164 compact"),
    ("0151 23456789", "DE", "DE mobile national"),
    ("+49 151 23456789", "DE", "DE mobile international"),
    ("+49 (0)151-234 567 89", "DE", "DE mobile (0) trunk with dash"),
    ("0800 1234567890", "DE", "DE toll free national"),
    ("  +49 30 1234567  ", "DE", "DE international with surrounding whitespace"),
    ("+49 0", "DE", "DE country code plus lone zero"),
    ("0049", "DE", "DE 00 prefix plus country code only"),
    ("+49 301", "DE", "DE too short"),
    ("+49 30 123456789012345", "DE", "DE too long"),
    ("+49 030 1234567", "DE", "DE international with stray trunk 0"),
    ("+49 (0)4921 12345-6", "DE", "DE Emden (0) trunk with direct-dial suffix"),
    # ------------------------------------------------------------------ AT
    ("+43 1 234567890", "AT", "AT international Vienna"),
    ("+431234567890", "AT", "AT E.164 fixed line"),
    ("+43 (0)1 234567890", "AT", "AT international with (0) trunk"),
    ("0043 1 234567890", "AT", "AT 00-prefixed international"),
    ("01/234567890", "AT", "AT national with slash"),
    ("0664 123456", "AT", "AT mobile national"),
    ("+43 664 123456", "AT", "AT mobile international"),
    ("+43 (0)664-123 456", "AT", "AT mobile (0) trunk with dash"),
    ("0316 123456", "AT", "AT Graz national"),
    ("0043 316 123456", "AT", "AT Graz 00-prefixed"),
    ("+43 0", "AT", "AT country code plus lone zero"),
    # ------------------------------------------------------------------ CH
    ("+41446681801", "CH", "CH E.164 Zurich"),
    ("+41 44 668 18 01", "CH", "CH international with spaces"),
    ("+41 (0)44 668 18 01", "CH", "CH international with (0) trunk"),
    ("0041446681801", "CH", "CH 00-prefixed compact"),
    ("0041 44 668 18 01", "CH", "CH 00-prefixed spaced"),
    ("044 668 18 01", "CH", "CH national with spaces"),
    ("021 234 56 78", "CH", "CH Lausanne national"),
    ("078 123 45 67", "CH", "CH mobile national"),
    ("+41 78 123 45 67", "CH", "CH mobile international"),
    ("+41-44-668.18.01", "CH", "CH mixed dash and dots"),
    ("044 668 18 01", "DE", "CH national parsed with region DE"),
    # ------------------------------------------------------------------ GB
    ("+442079460958", "GB", "GB E.164 London"),
    ("+44 20 7946 0958", "GB", "GB international with spaces"),
    ("+44 (20) 7946-0958", "GB", "GB parenthesised area code with dash"),
    ("+44 (0)20 7946 0958", "GB", "GB international with (0) trunk"),
    ("0044 20 7946 0958", "GB", "GB 00-prefixed international"),
    ("020 7946 0958", "GB", "GB national London"),
    ("(020) 7946 0958", "GB", "GB national area code in parentheses"),
    ("0121 234 5678", "GB", "GB national Birmingham"),
    ("07400 123456", "GB", "GB mobile national"),
    ("+44 7400 123456", "GB", "GB mobile international"),
    ("020 7946 0018", "DE", "GB London national parsed with region DE"),
    ("011 44 20 7946 0958", "US", "GB via US 011 international prefix"),
    ("+44 20 7946", "GB", "GB too short"),
    ("0800 FLOWERS", "GB", "GB vanity freephone national"),
    # ------------------------------------------------------------------ FR
    ("+33123456789", "FR", "FR E.164 Paris"),
    ("+33 1 23 45 67 89", "FR", "FR international with spaces"),
    ("+33 1.23.45.67.89", "FR", "FR international with dots"),
    ("+33 (0)1 23 45 67 89", "FR", "FR international with (0) trunk"),
    ("0033 1 23 45 67 89", "FR", "FR 00-prefixed international"),
    ("01 23 45 67 89", "FR", "FR national Paris"),
    ("01.23.45.67.89", "FR", "FR national with dots"),
    ("06 12 34 56 78", "FR", "FR mobile national"),
    ("+33 6 12 34 56 78", "FR", "FR mobile international"),
    ("06-12-34-56-78", "FR", "FR mobile national with dashes"),
    ("06 12 34 56 78", "GB", "FR mobile national parsed with region GB"),
    ("+33 1 23 45 67 89 10", "FR", "FR too long"),
    # ------------------------------------------------------------------ NL
    ("+31101234567", "NL", "NL E.164 Rotterdam"),
    ("+31 10 123 4567", "NL", "NL international with spaces"),
    ("+31 (0)10 123 4567", "NL", "NL international with (0) trunk"),
    ("0031 10 123 4567", "NL", "NL 00-prefixed international"),
    ("010-1234567", "NL", "NL national with dash"),
    ("06 12345678", "NL", "NL mobile national"),
    ("06-12345678", "NL", "NL mobile national with dash"),
    ("+31 6 12345678", "NL", "NL mobile international"),
    ("020 123 4567", "NL", "NL Amsterdam national"),
    # ------------------------------------------------------------------ BE
    ("+3212345678", "BE", "BE E.164 fixed line"),
    ("+32 2 555 12 34", "BE", "BE international Brussels"),
    ("+32 (0)2 555 12 34", "BE", "BE international with (0) trunk"),
    ("0032 2 555 12 34", "BE", "BE 00-prefixed international"),
    ("02/555.12.34", "BE", "BE national with slash and dots"),
    ("0450 00 12 34", "BE", "BE mobile national"),
    ("+32 450 00 12 34", "BE", "BE mobile international"),
    ("0470 12 34 56", "BE", "BE mobile national 0470"),
    # ------------------------------------------------------------------ IT
    ("+390212345678", "IT", "IT E.164 Milan (leading 0 kept)"),
    ("+39 02 1234 5678", "IT", "IT international with spaces"),
    ("0039 02 1234 5678", "IT", "IT 00-prefixed international"),
    ("02 1234 5678", "IT", "IT national Milan (0 is part of number)"),
    ("06 1234 5678", "IT", "IT national Rome"),
    ("312 345 6789", "IT", "IT mobile national"),
    ("+39 312 345 6789", "IT", "IT mobile international"),
    ("+39 312-345-6789", "IT", "IT mobile international with dashes"),
    ("+39 (0)2 1234 5678", "IT", "IT international with (0) (0 is part of number)"),
    # ------------------------------------------------------------------ ES
    ("+34810123456", "ES", "ES E.164 fixed line"),
    ("+34 91 123 45 67", "ES", "ES international Madrid"),
    ("0034 91 123 45 67", "ES", "ES 00-prefixed international"),
    ("91 123 45 67", "ES", "ES national Madrid"),
    ("612 34 56 78", "ES", "ES mobile national"),
    ("+34 612-34-56-78", "ES", "ES mobile international with dashes"),
    ("+34 412 34 56 78", "ES", "ES wrong leading digit 4"),
    # ------------------------------------------------------------------ PL
    ("+48123456789", "PL", "PL E.164 Krakow"),
    ("+48 12 345 67 89", "PL", "PL international with spaces"),
    ("0048 12 345 67 89", "PL", "PL 00-prefixed international"),
    ("12 345 67 89", "PL", "PL national"),
    ("512 345 678", "PL", "PL mobile national"),
    ("+48 512-345-678", "PL", "PL mobile international with dashes"),
    ("+48 (22) 123 45 67", "PL", "PL international Warsaw area in parentheses"),
    # ------------------------------------------------------------------ DK
    ("+4532123456", "DK", "DK E.164 fixed line"),
    ("+45 32 12 34 56", "DK", "DK international with spaces"),
    ("0045 32 12 34 56", "DK", "DK 00-prefixed international"),
    ("32 12 34 56", "DK", "DK national (no trunk prefix)"),
    ("34 41 23 45", "DK", "DK mobile national"),
    ("+45 3212 3456", "DK", "DK international grouped 4+4"),
    # ------------------------------------------------------------------ SE
    ("+468123456", "SE", "SE E.164 Stockholm"),
    ("+46 8 123 456", "SE", "SE international with spaces"),
    ("+46 (0)8 123 456", "SE", "SE international with (0) trunk"),
    ("0046 8 123 456", "SE", "SE 00-prefixed international"),
    ("08-12 34 56", "SE", "SE national with dash"),
    ("070-123 45 67", "SE", "SE mobile national with dash"),
    ("+46 70 123 45 67", "SE", "SE mobile international"),
    # ------------------------------------------------------------------ NO
    ("+4721234567", "NO", "NO E.164 Oslo"),
    ("+47 21 23 45 67", "NO", "NO international with spaces"),
    ("0047 21 23 45 67", "NO", "NO 00-prefixed international"),
    ("21 23 45 67", "NO", "NO national (no trunk prefix)"),
    ("406 12 345", "NO", "NO mobile national"),
    ("+47 406 12 345", "NO", "NO mobile international"),
    # ------------------------------------------------------------------ US
    ("+16502530000", "US", "US E.164"),
    ("+1 650-253-0000", "US", "US international with dashes"),
    ("+1 (650) 253-0000", "US", "US international area code in parentheses"),
    ("(650) 253-0000", "US", "US national parentheses and dash"),
    ("650.253.0000", "US", "US national with dots"),
    ("1-650-253-0000", "US", "US national with leading 1 and dashes"),
    ("6502530000", "US", "US national compact 10 digits"),
    ("001 650 253 0000", "DE", "US via 00-prefix from DE"),
    ("1-800-FLOWERS", "US", "US vanity toll free"),
    ("+1 800 FLOWERS", "US", "US vanity international"),
    ("1-800-GOT-JUNK", "US", "US vanity with dashes"),
    ("+1 800 FLOWERS", "DE", "US vanity international with region DE"),
    ("00 1 800 FLOWERS", "DE", "US vanity 00-prefixed from DE"),
    ("1-800-FLOWERS", "CA", "NANP vanity with region CA"),
    ("011 49 30 1234567", "US", "DE via US 011 international prefix"),
    ("011 33 1 23 45 67 89", "US", "FR via US 011 international prefix"),
    ("01149301234567", "US", "DE via US 011 prefix compact"),
    ("(650) 253-0000", "DE", "US national parsed with region DE"),
    ("+1 555 123 4567", "US", "US invalid 555 area code"),
    ("+1 650 253 00000", "US", "US too long"),
    (" 650-253-0000 ", "US", "US national with surrounding whitespace"),
    # ------------------------------------------------------------------ CA
    ("+15062345678", "CA", "CA E.164 New Brunswick"),
    ("+1 (416) 555-2345", "CA", "CA international Toronto parentheses"),
    ("416-555-2345", "CA", "CA national Toronto"),
    ("1 (604) 555-2345", "CA", "CA national Vancouver leading 1"),
    ("011 44 20 7946 0958", "CA", "GB via CA 011 international prefix"),
    ("(506) 234-5678", "CA", "CA national parentheses"),
    ("506.234.5678", "US", "CA number parsed with region US (NANP)"),
    # ------------------------------------------------------------------ AU
    ("+61212345678", "AU", "AU E.164 Sydney"),
    ("+61 2 1234 5678", "AU", "AU international with spaces"),
    ("+61 (0)2 1234 5678", "AU", "AU international with (0) trunk"),
    ("(02) 1234 5678", "AU", "AU national area code in parentheses"),
    ("0412 345 678", "AU", "AU mobile national"),
    ("+61 412 345 678", "AU", "AU mobile international"),
    ("0011 61 2 1234 5678", "AU", "AU via AU 0011 international prefix"),
    ("0011 49 30 1234567", "AU", "DE via AU 0011 international prefix"),
    ("1800 123 456", "AU", "AU toll free national"),
    # ------------------------------------------------------------------ IN
    ("+917410410123", "IN", "IN E.164 fixed line"),
    ("+91 74104 10123", "IN", "IN international with spaces"),
    ("+91 81234 56789", "IN", "IN mobile international"),
    ("081234 56789", "IN", "IN mobile national with trunk 0"),
    ("98765 43210", "IN", "IN mobile national without trunk"),
    ("0091 98765 43210", "IN", "IN 00-prefixed international"),
    ("+91-11-2345-6789", "IN", "IN Delhi international with dashes"),
    # ------------------------------------------------------------------ BR
    ("+551123456789", "BR", "BR E.164 Sao Paulo fixed"),
    ("+55 11 2345-6789", "BR", "BR international with dash"),
    ("(11) 2345-6789", "BR", "BR national parentheses"),
    ("(11) 96123-4567", "BR", "BR mobile national parentheses"),
    ("+55 (11) 96123-4567", "BR", "BR mobile international parentheses"),
    ("0055 11 96123 4567", "DE", "BR 00-prefixed international from DE"),
    ("0055 11 96123 4567", "BR", "BR 00+cc with BR region (BR intl prefix is 00xx carrier)"),
    ("0014 55 11 2345 6789", "BR", "BR 00xx carrier-select international prefix"),
    ("+55 11 2345", "BR", "BR too short"),
    # ------------------------------------------------------------------ JP
    ("+81312345678", "JP", "JP E.164 Tokyo"),
    ("+81 3-1234-5678", "JP", "JP international with dashes"),
    ("+81 (0)3 1234 5678", "JP", "JP international with (0) trunk"),
    ("03-1234-5678", "JP", "JP national Tokyo"),
    ("090-1234-5678", "JP", "JP mobile national"),
    ("+81 90 1234 5678", "JP", "JP mobile international"),
    ("010 81 3 1234 5678", "JP", "JP via JP 010 international prefix"),
    ("0120-123-456", "JP", "JP toll free national"),
    # ------------------------------------------------------------------ CN
    ("+861012345678", "CN", "CN E.164 Beijing"),
    ("+86 10 1234 5678", "CN", "CN international with spaces"),
    ("010 1234 5678", "CN", "CN national Beijing"),
    ("131 2345 6789", "CN", "CN mobile national"),
    ("+86 131-2345-6789", "CN", "CN mobile international with dashes"),
    ("0086 131 2345 6789", "CN", "CN 00-prefixed international"),
    ("+86 231 2345 6789", "CN", "CN wrong leading digits"),
    # ------------------------------------------------------------------ ZA
    ("+27101234567", "ZA", "ZA E.164 Johannesburg"),
    ("+27 10 123 4567", "ZA", "ZA international with spaces"),
    ("+27 (0)11 123 4567", "ZA", "ZA international with (0) trunk"),
    ("010 123 4567", "ZA", "ZA national"),
    ("071 123 4567", "ZA", "ZA mobile national"),
    ("0027 71 123 4567", "ZA", "ZA 00-prefixed international"),
    # ------------------------------------------------------------------ IE
    ("+3532212345", "IE", "IE E.164 Mallow"),
    ("+353 1 234 5678", "IE", "IE international Dublin"),
    ("+353 (0)1 234 5678", "IE", "IE international with (0) trunk"),
    ("(01) 234 5678", "IE", "IE national Dublin parentheses"),
    ("085 012 3456", "IE", "IE mobile national"),
    ("00353 85 012 3456", "IE", "IE 00-prefixed international"),
    ("085 012 3456", "GB", "IE mobile national parsed with region GB"),
    # ------------------------------------------------------------------ CZ
    ("+420212345678", "CZ", "CZ E.164 Prague"),
    ("+420 212 345 678", "CZ", "CZ international with spaces"),
    ("00420 212 345 678", "CZ", "CZ 00-prefixed international"),
    ("212 345 678", "CZ", "CZ national (no trunk prefix)"),
    ("601 123 456", "CZ", "CZ mobile national"),
    ("+420 601-123-456", "CZ", "CZ mobile international with dashes"),
    # ------------------------------------------------------------------ NZ
    ("+6432345678", "NZ", "NZ E.164 Christchurch"),
    ("+64 3 234 5678", "NZ", "NZ international with spaces"),
    ("(03) 234 5678", "NZ", "NZ national parentheses"),
    ("021 123 4567", "NZ", "NZ mobile national"),
    ("00 64 21 123 4567", "NZ", "NZ 00-prefixed international"),
    # ------------------------------------------------------------------ SG
    ("+6561234567", "SG", "SG E.164 fixed line"),
    ("+65 6123 4567", "SG", "SG international with spaces"),
    ("6123 4567", "SG", "SG national"),
    ("8123-4567", "SG", "SG mobile national with dash"),
    ("0065 8123 4567", "DE", "SG 00-prefixed international from DE"),
    ("0065 8123 4567", "SG", "SG 00+cc with SG region (SG intl prefix is 00x)"),
    ("001 65 6123 4567", "SG", "SG via SG 001 international prefix"),
    # ------------------------------------------------------------------ MX
    ("+522221234567", "MX", "MX E.164 Puebla"),
    ("+52 222 123 4567", "MX", "MX international with spaces"),
    ("222 123 4567", "MX", "MX national"),
    ("+52 1 222 123 4567", "MX", "MX legacy mobile 1 after country code (retired)"),
    ("00 52 55 1234 5678", "MX", "MX 00-prefixed international Mexico City"),
    # ------------------------------------------------------- generic invalid
    ("+999 123456", "DE", "unassigned country code 999"),
    ("+", "DE", "plus sign alone"),
    ("abcdefgh", "DE", "letters only"),
    ("+49 abc def", "DE", "country code then letters"),
    ("00000000", "DE", "all zeros national"),
    ("++49 30 1234567", "DE", "double plus"),
    ("1234567890123456789", "DE", "19 digits too long"),
    ("+123456789012345678", "US", "overlong after plus"),
    ("00 999 1234567", "DE", "00-prefixed unassigned country code"),
]


def expected_for(raw, region):
    try:
        p = phonenumbers.parse(raw, region)
    except NumberParseException:
        return "INVALID"
    if not phonenumbers.is_valid_number(p):
        return "INVALID"
    return phonenumbers.format_number(p, PhoneNumberFormat.E164)


def main():
    out = sys.stdout
    out.write("# phonenumbers %s\n" % phonenumbers.__version__)
    out.write("input\tregion\texpected\tnote\n")
    for raw, region, note in CASES:
        assert "\t" not in raw and "\t" not in note, raw
        assert len(region) == 2 and region.isupper(), region
        out.write("%s\t%s\t%s\t%s\n" % (raw, region, expected_for(raw, region), note))


if __name__ == "__main__":
    main()
